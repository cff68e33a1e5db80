/**
 * What worker code needs from piscina, kept here so that only src/pool imports it:
 * marking a reply buffer to be transferred rather than cloned.
 */
import { Piscina } from 'piscina';

export function transferable(buffer: ArrayBuffer): ArrayBuffer {
  return Piscina.move(buffer) as unknown as ArrayBuffer;
}
