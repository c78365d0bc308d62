import { encodePng } from './png';

// A side view of a generic saloon in the vehicle's colour on a light studio background, drawn from simple shapes
// with 4x supersampling so the edges are smooth. Not a BMW rendering, just something an image viewer and a
// dashboard can show.

export const IMAGE_WIDTH = 480;
export const IMAGE_HEIGHT = 270;

type Rgb = readonly [number, number, number];
type Point = readonly [number, number];

function inPolygon(x: number, y: number, pts: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i];
    const [xj, yj] = pts[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inRoundedRect(x: number, y: number, x0: number, y0: number, x1: number, y1: number, r: number): boolean {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function inCircle(x: number, y: number, cx: number, cy: number, r: number): boolean {
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function shade(c: Rgb, f: number): Rgb {
  const adj = (v: number): number => Math.max(0, Math.min(255, Math.round(f >= 0 ? v + (255 - v) * f : v * (1 + f))));
  return [adj(c[0]), adj(c[1]), adj(c[2])];
}

const CABIN: Point[] = [
  [118, 140],
  [178, 94],
  [206, 86],
  [318, 84],
  [352, 96],
  [392, 140],
];
const FRONT_WINDOW: Point[] = [
  [150, 136],
  [188, 100],
  [210, 93],
  [258, 92],
  [258, 136],
];
const REAR_WINDOW: Point[] = [
  [268, 136],
  [268, 92],
  [314, 91],
  [340, 101],
  [368, 136],
];
const WHEELS: Point[] = [
  [138, 200],
  [352, 200],
];

/** Colour at one sample point, painting back to front. */
function sample(x: number, y: number, body: Rgb): Rgb {
  // Studio background and floor.
  const t = y / IMAGE_HEIGHT;
  let c: Rgb = y < 214 ? [Math.round(242 - 14 * t), Math.round(245 - 12 * t), Math.round(249 - 10 * t)] : [214, 219, 226];
  const shadow = ((x - 245) / 205) ** 2 + ((y - 224) / 12) ** 2;
  if (shadow <= 1) c = shade(c, -0.28 * (1 - shadow));
  // Outside the car's bounding box there is only background: skip the shape tests (most of the canvas).
  if (x < 50 || x > 436 || y < 78 || y > 240) return c;

  const inBody = inRoundedRect(x, y, 56, 132, 430, 210, 24) || inPolygon(x, y, CABIN);
  if (inBody) {
    c = y < 160 ? shade(body, 0.12) : y > 192 ? shade(body, -0.25) : body;
    if (Math.abs(y - 158) < 1.2) c = shade(body, 0.35); // shoulder line catching the light
    if (inPolygon(x, y, FRONT_WINDOW) || inPolygon(x, y, REAR_WINDOW)) c = y < 105 ? [74, 88, 104] : [43, 52, 64];
    if (inRoundedRect(x, y, 414, 148, 430, 160, 3)) c = [246, 240, 214]; // headlight
    if (inRoundedRect(x, y, 56, 146, 70, 158, 3)) c = [196, 32, 38]; // tail light
    if (inRoundedRect(x, y, 404, 168, 418, 184, 3)) c = [30, 32, 36]; // grille
    if (inRoundedRect(x, y, 236, 164, 252, 168, 2)) c = shade(body, -0.4); // door handle
  }
  for (const [cx, cy] of WHEELS) {
    if (inCircle(x, y, cx, cy, 40) && y < 212 && inBody) c = [24, 26, 30]; // wheel arch
    if (inCircle(x, y, cx, cy, 33)) c = [28, 30, 34]; // tyre
    if (inCircle(x, y, cx, cy, 21)) c = [184, 190, 198]; // rim
    if (inCircle(x, y, cx, cy, 21) && !inCircle(x, y, cx, cy, 8)) {
      // Five spokes: darker gaps between them.
      const angle = (Math.atan2(y - cy, x - cx) + Math.PI) / ((2 * Math.PI) / 5);
      if (angle - Math.floor(angle) > 0.55) c = [96, 102, 110];
    }
    if (inCircle(x, y, cx, cy, 5)) c = [70, 74, 80]; // hub
  }
  return c;
}

// Rendering takes a few hundred milliseconds cold; every simulator in a process shares the result.
const rendered = new Map<string, Buffer>();

export function renderVehicleImage(colour: Rgb): Buffer {
  const key = colour.join(',');
  let png = rendered.get(key);
  if (!png) {
    png = render(colour);
    rendered.set(key, png);
  }
  return png;
}

function render(colour: Rgb): Buffer {
  const pixels = Buffer.alloc(IMAGE_WIDTH * IMAGE_HEIGHT * 4);
  const offsets = [0.25, 0.75];
  for (let y = 0; y < IMAGE_HEIGHT; y++) {
    for (let x = 0; x < IMAGE_WIDTH; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const oy of offsets) {
        for (const ox of offsets) {
          const [sr, sg, sb] = sample(x + ox, y + oy, colour);
          r += sr;
          g += sg;
          b += sb;
        }
      }
      const i = (y * IMAGE_WIDTH + x) * 4;
      pixels[i] = Math.round(r / 4);
      pixels[i + 1] = Math.round(g / 4);
      pixels[i + 2] = Math.round(b / 4);
      pixels[i + 3] = 255;
    }
  }
  return encodePng(IMAGE_WIDTH, IMAGE_HEIGHT, pixels);
}
