// The <trustmark-badge> element: fetches what it needs from the registry only, verifies
// the badge with verify.js and shows the result in a shadow root. Every failure ends in
// a state (never an exception out of the element), and nothing short of a full check
// shows "verified".

import { verifyBadge } from './verify.js';
import { parseJwks } from './jwks.js';
import { verifyWebCrypto } from './webcrypto.js';
import { CSS } from './styles.js';
import { en, pick } from './lang.js';

const MARKS = { verified: '\u2713', suspended: '!', revoked: '\u2715', expired: '\u231B', 'wrong-origin': '\u26A0', invalid: '\u2715', unknown: '?' };
const MAX_TOKENS = 10;

/**
 * Defines the element for the registry at `issuer` (its URL, taken from the script's own
 * address). `fallback` is the URL and SRI hash of the Ed25519 fallback script.
 */
export function define(issuer, fallback, i18nUrl) {
  const cache = new Map();
  // No cookies, no referrer: the registry learns no more than that some page asked.
  // `fresh` revalidates with the server (a status list answers 304 while unchanged) so a
  // revocation shows on the next page load, not when the browser's copy ages out.
  const get = (url, fresh) => {
    if (!cache.has(url)) {
      cache.set(
        url,
        fetch(url, { credentials: 'omit', referrerPolicy: 'no-referrer', cache: fresh ? 'no-cache' : undefined }).then((r) => {
          if (!r.ok) throw new Error(`HTTP ${r.status}`);
          return r.text();
        }),
      );
      cache.get(url).catch(() => cache.delete(url));
    }
    return cache.get(url);
  };
  const jwks = `${issuer}/.well-known/jwks.json`;
  let keys;
  let refreshed = false;
  const getKeys = () => (keys ??= get(jwks, refreshed).then(parseJwks)).catch((e) => {
    keys = undefined;
    throw e;
  });
  // A kid the cached key set lacks may be a key rotated in since: ask the registry once
  // more, past the browser's cache, before calling the badge invalid.
  const refreshKeys = () => {
    if (refreshed) return false;
    refreshed = true;
    cache.delete(jwks);
    keys = undefined;
    return true;
  };

  const catalogues = new Map([['en', Promise.resolve(en)]]);
  const loaded = { en };
  const catalogue = (lang) => {
    if (!catalogues.has(lang)) {
      catalogues.set(
        lang,
        get(i18nUrl)
          .then((text) => JSON.parse(text)[lang] ?? en)
          .catch(() => en)
          .then((t) => (loaded[lang] = t)),
      );
    }
    return catalogues.get(lang);
  };

  let noble;
  const loadFallback = () =>
    (noble ??= new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = fallback.url;
      s.integrity = fallback.sri;
      s.crossOrigin = 'anonymous';
      s.onload = () => (typeof globalThis[fallback.name] === 'function' ? resolve(globalThis[fallback.name]) : reject(new Error('fallback')));
      s.onerror = () => reject(new Error('fallback'));
      document.head.append(s);
    }));
  let webCrypto = true;
  const ed25519 = async (key, sig, msg) => {
    if (webCrypto) {
      try {
        return await verifyWebCrypto(key, sig, msg);
      } catch {
        // Not a bad signature: this browser's WebCrypto cannot do Ed25519.
        webCrypto = false;
      }
    }
    return (await loadFallback())(key, sig, msg);
  };

  const sheet = (() => {
    try {
      const s = new CSSStyleSheet();
      s.replaceSync(CSS);
      return s;
    } catch {
      return null;
    }
  })();

  class TrustmarkBadge extends HTMLElement {
    static observedAttributes = ['token', 'src', 'lang'];

    #root = this.attachShadow({ mode: 'open' });
    #run = 0;
    #result = null;

    connectedCallback() {
      if (!this.#run) this.#check();
    }

    attributeChangedCallback(name, old, value) {
      if (!this.isConnected || old === value) return;
      if (name === 'lang') catalogue(this.#lang()).then(() => this.#render());
      else this.#check();
    }

    async #check() {
      const run = ++this.#run;
      this.#result = null;
      this.#render();
      const words = catalogue(this.#lang());
      let result;
      try {
        result = await this.#verify();
      } catch {
        result = { state: 'unknown', claims: null };
      }
      await words;
      if (run !== this.#run) return;
      this.#result = result;
      this.#render();
    }

    async #tokens() {
      const token = this.getAttribute('token');
      if (token !== null) return [token.trim()];
      const src = this.getAttribute('src');
      if (src === null) return [];
      const url = new URL(src, document.baseURI);
      // Only the site itself or the registry is ever asked.
      if (url.origin !== location.origin && url.origin !== new URL(issuer).origin) throw new Error('src elsewhere');
      const text = await get(url.href, true);
      return text
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .slice(0, MAX_TOKENS);
    }

    async #verify() {
      const tokens = await this.#tokens();
      if (!tokens.length) return { state: 'invalid', claims: null };
      const opts = {
        issuer,
        keys: await getKeys(),
        origin: location.origin,
        at: Math.floor(Date.now() / 1000),
        ed25519,
        lists: async (uri) => {
          // A list elsewhere than the registry is never fetched: it reads as unavailable.
          if (!uri.startsWith(`${issuer}/`)) return [];
          try {
            return [(await get(uri, true)).trim()];
          } catch {
            return [];
          }
        },
      };
      const results = [];
      for (const t of tokens) {
        let r = await verifyBadge(t, opts);
        if (r.reason === 'unknown_key' && refreshKeys()) r = await verifyBadge(t, { ...opts, keys: await getKeys() });
        if (r.state === 'verified') return r;
        results.push(r);
      }
      return results.find((r) => r.state !== 'wrong-origin') ?? results[0];
    }

    #lang() {
      return pick(this.getAttribute('lang'), document.documentElement.lang, navigator.language);
    }

    #render() {
      const root = this.#root;
      const r = this.#result;
      const state = r ? r.state : 'pending';
      this.setAttribute('state', state);
      const lang = this.#lang();
      // The catalogues ship with the script (badge-js/test/i18n.test.js checks each has
      // every key), so a loaded one needs no per-key fallback.
      const t = loaded[lang] ?? en;
      const el = (tag, cls, text) => {
        const e = document.createElement(tag);
        if (cls) e.className = cls;
        if (text !== undefined) e.textContent = text;
        return e;
      };
      const nodes = [];
      if (sheet) root.adoptedStyleSheets = [sheet];
      else nodes.push(el('style', '', CSS));
      if (!r) {
        // Until the check ends the page's own fallback (link and image) shows.
        const slot = el('slot');
        slot.append(el('span', 'p', t.pending));
        nodes.push(slot);
        root.replaceChildren(...nodes);
        return;
      }
      const c = r.claims;
      const a = el('a', state);
      a.lang = lang;
      a.href = c && typeof c.jti === 'string' && /^[A-Za-z0-9_-]{1,40}$/.test(c.jti) ? `${issuer}/b/${c.jti}?from=${encodeURIComponent(location.origin)}` : `${issuer}/`;
      const label = t[state];
      const text = el('span', 't');
      text.append(el('span', 'l', label));
      let name = label;
      // Only a fully verified badge's claims are shown: anything else may be forged.
      if (state === 'verified') {
        const date = new Date(c.exp * 1000).toLocaleDateString(lang, { dateStyle: 'medium', timeZone: 'UTC' });
        const until = `${t['valid-until']} ${date}`;
        text.append(el('span', 'd', c.org.name), el('span', 'd', until));
        name = `${label}: ${c.org.name}, ${until}`;
      }
      a.setAttribute('aria-label', name);
      a.append(el('span', 'm', MARKS[state]), text);
      nodes.push(a);
      root.replaceChildren(...nodes);
    }
  }

  if (!customElements.get('trustmark-badge')) customElements.define('trustmark-badge', TrustmarkBadge);
}
