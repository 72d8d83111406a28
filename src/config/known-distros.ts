import { builders } from '../../builders/registry.js';

export function knownDistros(): string[] {
  return Object.keys(builders).sort();
}
