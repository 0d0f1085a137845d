/**
 * Photos are made smaller on the phone before they are kept or sent: a 12-megapixel picture is 4–8 MB, which a
 * cheap phone on a weak link may never get through. The longest side goes down to 1600 px and the picture becomes a
 * JPEG at 0.8 (about 200–400 kB), turned upright as the camera's EXIF says (createImageBitmap's imageOrientation).
 * The server re-encodes again and strips EXIF and GPS either way.
 */
export const MAX_SIDE_PX = 1600
export const MAX_PHOTOS = 6

export async function shrinkPhoto(file: Blob, maxSide = MAX_SIDE_PX, quality = 0.8): Promise<Blob> {
  let bitmap: ImageBitmap
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' })
  } catch {
    return file // not an image the browser decodes: the server says what it thinks of it
  }
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height))
  const w = Math.max(1, Math.round(bitmap.width * scale))
  const h = Math.max(1, Math.round(bitmap.height * scale))
  const canvas = document.createElement('canvas')
  canvas.width = w
  canvas.height = h
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0, w, h)
  bitmap.close()
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality))
  return blob && blob.size < file.size ? blob : file
}
