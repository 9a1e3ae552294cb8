// Identicons drawn in the page: the picture engagement/comments/avatars.py serves at a comment's avatar
// path (/api/v1/sites/<site>/avatars/<digest>.svg), computed here from the digest in that path, so a
// thread of 200 comments costs no request and no image decoding per avatar. The same digest gives the
// same picture as the server's, pixel for pixel (tests/browser/test_widget_avatars.py compares them).
const SVG = "http://www.w3.org/2000/svg";
const AVATAR_PATH = /^\/api\/v1\/sites\/[^/]+\/avatars\/([0-9a-f]{16,64})\.svg$/i;
const GRID = 5;
const CELL = 6;
const MARGIN = 5;
const TILE = "#f0f0f0";
const drawn = new Map();

// SHA-256 of an ASCII string (a hex digest): a one-block case of FIPS 180-4 for up to 55 characters,
// more blocks otherwise. The constants are the fractional parts of the primes' square and cube roots.
let rounds;
function sha256(text) {
  if (!rounds) {
    const primes = [];
    for (let n = 2; primes.length < 64; n++) if (primes.every((p) => n % p)) primes.push(n);
    const fraction = (x) => ((x - Math.floor(x)) * 2 ** 32) >>> 0;
    rounds = { k: primes.map((p) => fraction(Math.cbrt(p))), h: primes.slice(0, 8).map((p) => fraction(Math.sqrt(p))) };
  }
  const bytes = [...text].map((c) => c.charCodeAt(0) & 255);
  const bits = bytes.length * 8;
  bytes.push(0x80);
  while (bytes.length % 64 !== 56) bytes.push(0);
  bytes.push(0, 0, 0, 0, bits >>> 24, (bits >>> 16) & 255, (bits >>> 8) & 255, bits & 255);
  const hash = rounds.h.slice();
  const w = new Array(64);
  const rotate = (x, n) => (x >>> n) | (x << (32 - n));
  for (let block = 0; block < bytes.length; block += 64) {
    for (let i = 0; i < 64; i++) {
      if (i < 16) {
        const at = block + i * 4;
        w[i] = (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
      } else {
        const s0 = rotate(w[i - 15], 7) ^ rotate(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        const s1 = rotate(w[i - 2], 17) ^ rotate(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
      }
    }
    let [a, b, c, d, e, f, g, h] = hash;
    for (let i = 0; i < 64; i++) {
      const t1 = (h + (rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)) + ((e & f) ^ (~e & g)) + rounds.k[i] + w[i]) | 0;
      const t2 = ((rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    hash[0] = (hash[0] + a) | 0;
    hash[1] = (hash[1] + b) | 0;
    hash[2] = (hash[2] + c) | 0;
    hash[3] = (hash[3] + d) | 0;
    hash[4] = (hash[4] + e) | 0;
    hash[5] = (hash[5] + f) | 0;
    hash[6] = (hash[6] + g) | 0;
    hash[7] = (hash[7] + h) | 0;
  }
  return hash.flatMap((word) => [word >>> 24, (word >>> 16) & 255, (word >>> 8) & 255, word & 255]);
}

// Python's colorsys.hls_to_rgb, step for step (the same floating-point results).
function hlsToRgb(hue, lightness, saturation) {
  const m2 = lightness <= 0.5 ? lightness * (1 + saturation) : lightness + saturation - lightness * saturation;
  const m1 = 2 * lightness - m2;
  const channel = (h) => {
    h %= 1;
    if (h < 0) h += 1;
    if (h < 1 / 6) return m1 + (m2 - m1) * h * 6;
    if (h < 0.5) return m2;
    if (h < 2 / 3) return m1 + (m2 - m1) * (2 / 3 - h) * 6;
    return m1;
  };
  return [channel(hue + 1 / 3), channel(hue), channel(hue - 1 / 3)];
}

const luminance = (rgb) => {
  const [r, g, b] = rgb.map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};

// The cells (row, column) and the colour of a digest's picture, as avatars.py computes them.
export function identicon(digest) {
  const material = sha256(digest.toLowerCase());
  const bits = (material[0] << 8) | material[1];
  const half = (GRID + 1) / 2;
  const cells = [];
  for (let row = 0; row < GRID; row++) {
    for (let column = 0; column < half; column++) {
      if ((bits >> (row * half + column)) & 1) {
        cells.push([row, column]);
        if (column !== GRID - 1 - column) cells.push([row, GRID - 1 - column]);
      }
    }
  }
  if (!cells.length) cells.push([2, 2]);
  cells.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const hue = (((material[2] << 8) | material[3]) % 360) / 360;
  const saturation = (50 + (material[4] % 26)) / 100;
  const target = 0.13 + ((0.18 - 0.13) * material[5]) / 255;
  let low = 0;
  let high = 1;
  for (let i = 0; i < 30; i++) {
    const middle = (low + high) / 2;
    if (luminance(hlsToRgb(hue, middle, saturation)) < target) low = middle;
    else high = middle;
  }
  const color = "#" + hlsToRgb(hue, (low + high) / 2, saturation)
    .map((c) => Math.round(c * 255).toString(16).padStart(2, "0"))
    .join("");
  return { cells, color };
}

// An <svg class="av"> of the avatar at `path`, or null when the path is not one of the service's
// identicons. Inline SVG is part of the document: no request, no decoding of a separate SVG document.
export function avatarElement(path) {
  const digest = AVATAR_PATH.exec(path || "")?.[1];
  if (!digest) return null;
  let found = drawn.get(digest);
  if (!found) {
    const { cells, color } = identicon(digest);
    const size = 2 * MARGIN + GRID * CELL;
    found = document.createElementNS(SVG, "svg");
    for (const [name, value] of [["class", "av"], ["viewBox", `0 0 ${size} ${size}`], ["aria-hidden", "true"]]) {
      found.setAttribute(name, value);
    }
    const shape = (fill, d) => {
      const element = document.createElementNS(SVG, "path");
      element.setAttribute("fill", fill);
      element.setAttribute("d", d);
      found.append(element);
    };
    shape(TILE, `M0 0h${size}v${size}H0z`);
    shape(color, cells.map(([row, column]) => `M${MARGIN + column * CELL} ${MARGIN + row * CELL}h${CELL}v${CELL}h-${CELL}z`).join(""));
    drawn.set(digest, found);
  }
  return found.cloneNode(true);
}
