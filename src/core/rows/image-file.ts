/** File extensions of the image types BMW may answer with; any other type is saved as `.bin`. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/svg+xml': 'svg',
};

/** The extension for an image's content type (parameters such as `; charset` ignored). */
export function imageExtension(contentType: string): string {
  return EXTENSIONS[contentType.split(';')[0].trim().toLowerCase()] ?? 'bin';
}

/** The file name every host gives a vehicle image: the VIN and the extension of its type. */
export function imageFileName(vin: string, contentType: string): string {
  return `${vin}.${imageExtension(contentType)}`;
}
