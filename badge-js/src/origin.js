// The canonical origin form of SPEC 3.1 (`origin.rs` in the Rust core): https, lowercase
// ASCII host with punycode for IDN, a port only when not the default, no path; http only
// for loopback hosts.

const LDH = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4 = /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/;

const isIpv4 = (h) => {
  const m = IPV4.exec(h);
  return !!m && m.slice(1).every((p) => +p <= 255);
};

const isLoopback = (h) => h === 'localhost' || h === '[::1]' || (isIpv4(h) && h.startsWith('127.'));

// What the URL parser makes of a host, or null: used where the core runs IDNA or prints
// an IPv6 address, both of which the browser already implements.
function parsedHost(host) {
  try {
    return new URL(`https://${host}/`).hostname;
  } catch {
    return null;
  }
}

/** Whether `origin` is a canonical origin. */
export function isCanonicalOrigin(origin) {
  if (typeof origin !== 'string') return false;
  const sep = origin.indexOf('://');
  if (sep < 0) return false;
  const scheme = origin.slice(0, sep);
  const after = origin.slice(sep + 3);
  const end = after.search(/[/?#]/);
  if (end >= 0) return false;
  if (after.includes('@')) return false;
  const defaultPort = scheme === 'https' ? 443 : scheme === 'http' ? 80 : 0;
  if (!defaultPort) return false;
  let host = after;
  let port = null;
  if (after.startsWith('[')) {
    const close = after.indexOf(']');
    if (close < 0) return false;
    host = after.slice(0, close + 1);
    const tail = after.slice(close + 1);
    if (tail) {
      if (tail[0] !== ':') return false;
      port = tail.slice(1);
    }
  } else {
    const colon = after.lastIndexOf(':');
    if (colon >= 0) {
      host = after.slice(0, colon);
      port = after.slice(colon + 1);
    }
  }
  let ok;
  if (host.startsWith('[')) ok = parsedHost(host) === host;
  else if (/^[0-9.]*$/.test(host)) ok = isIpv4(host);
  else {
    const labels = host.split('.');
    ok = labels.every((l) => LDH.test(l)) && (!labels.some((l) => l.startsWith('xn--')) || parsedHost(host) === host);
  }
  if (!ok) return false;
  if (scheme === 'http' && !isLoopback(host)) return false;
  if (port !== null) {
    if (!/^[0-9]+$/.test(port) || port[0] === '0') return false;
    const n = Number(port);
    if (n < 1 || n > 65535 || n === defaultPort) return false;
  }
  return true;
}
