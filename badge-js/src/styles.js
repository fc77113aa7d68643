// The badge's stylesheet. It lives in the shadow root, so page CSS cannot restyle the
// badge and these rules cannot leak out; `all: initial` on the host stops inherited page
// fonts and colours too. Dark colours apply with theme="dark", or with no theme attribute
// when the reader's system prefers dark.

const DARK = '--bg:#0d1117;--fg:#e6edf3;--bd:#3d444d;--mu:#9198a1;--ok:#3fb950;--wa:#d29922;--ba:#f85149;--fo:#4493f8';

export const CSS = [`:host{all:initial;display:inline-block;vertical-align:middle;--bg:#fff;--fg:#1f2328;--bd:#d0d7de;--mu:#59636e;--ok:#1a7f37;--wa:#9a6700;--ba:#cf222e;--fo:#0969da}`,
`:host([hidden]){display:none}`,
`:host([theme=dark]){${DARK}}`,
`@media (prefers-color-scheme:dark){:host(:not([theme=light])){${DARK}}}`,
`a,.p{display:inline-flex;align-items:center;gap:.55em;max-width:24em;padding:.45em .75em .45em .55em;border:1px solid var(--bd);border-left:4px solid var(--c,var(--mu));border-radius:6px;background:var(--bg);color:var(--fg);font:13px/1.3 system-ui,sans-serif;text-decoration:none}`,
`a:focus-visible{outline:3px solid var(--fo);outline-offset:2px}`,
`.m{flex:none;display:inline-grid;place-items:center;width:1.7em;height:1.7em;border-radius:50%;background:var(--c,var(--mu));color:var(--bg);font-weight:700}`,
`.t{display:flex;flex-direction:column;min-width:0}`,
`.l{font-weight:600}`,
`.d{color:var(--mu);font-size:.9em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}`,
`:host([size=small]) a{font-size:11px;padding:.25em .5em .25em .35em}`,
`:host([size=small]) .d{display:none}`,
`.verified{--c:var(--ok)}`,
`.suspended{--c:var(--wa)}`,
`.revoked,.invalid,.wrong-origin{--c:var(--ba)}`,
`.p{animation:p 1.4s ease-in-out infinite}`,
`@keyframes p{50%{opacity:.55}}`,
`@media (prefers-reduced-motion:reduce){.p{animation:none}}`].join('');
