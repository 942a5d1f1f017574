import { rename, writeFile } from 'node:fs/promises';

/** Saves a virtual card's image: written beside the file, then renamed, so a crash mid-write never leaves half an image. */
export async function saveImage(file: string, image: unknown): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(image, null, 2)}\n`);
  await rename(temporary, file);
}
