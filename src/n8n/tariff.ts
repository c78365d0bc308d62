import { parseTariff, type Tariff } from '../core/tariff';

/** The credential's Tariff field (JSON text), parsed; undefined when it is empty. Throws an input error naming what is wrong. */
export function credentialTariff(value: unknown): Tariff | undefined {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return undefined;
  return parseTariff(value);
}
