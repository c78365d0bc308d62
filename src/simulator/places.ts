// Charging places around Munich shared by charging history and location based charging settings, so both tell
// the same story. Addresses are invented but shaped like real ones.

export interface Place {
  id: string;
  kind: 'home' | 'work' | 'public';
  streetAddress: string;
  postalCode: string;
  municipality: string;
  lat: number;
  lon: number;
  /** Public places only. */
  provider?: string;
  /** Charger power in kW: AC wallboxes ~11, DC fast chargers 50-350. */
  maxKw: number;
  dc: boolean;
}

export const HOME: Place = {
  id: 'home',
  kind: 'home',
  streetAddress: 'Belgradstraße 41',
  postalCode: '80796',
  municipality: 'München',
  lat: 48.16402,
  lon: 11.57118,
  maxKw: 11,
  dc: false,
};

export const WORK: Place = {
  id: 'work',
  kind: 'work',
  streetAddress: 'Knorrstraße 147',
  postalCode: '80788',
  municipality: 'München',
  lat: 48.18322,
  lon: 11.56945,
  maxKw: 11,
  dc: false,
};

export const PUBLIC_PLACES: readonly Place[] = [
  {
    id: 'p-swm',
    kind: 'public',
    streetAddress: 'Leopoldstraße 82',
    postalCode: '80802',
    municipality: 'München',
    lat: 48.16105,
    lon: 11.58598,
    provider: 'SWM',
    maxKw: 22,
    dc: false,
  },
  {
    id: 'p-allego',
    kind: 'public',
    streetAddress: 'Riesstraße 59',
    postalCode: '80993',
    municipality: 'München',
    lat: 48.17571,
    lon: 11.51737,
    provider: 'Allego',
    maxKw: 50,
    dc: true,
  },
  {
    id: 'p-ionity',
    kind: 'public',
    streetAddress: 'Rastanlage Holledau West, A9',
    postalCode: '85301',
    municipality: 'Schweitenkirchen',
    lat: 48.55761,
    lon: 11.60212,
    provider: 'IONITY',
    maxKw: 350,
    dc: true,
  },
  {
    id: 'p-enbw',
    kind: 'public',
    streetAddress: 'Frankenstraße 156',
    postalCode: '90461',
    municipality: 'Nürnberg',
    lat: 49.42731,
    lon: 11.10098,
    provider: 'EnBW',
    maxKw: 150,
    dc: true,
  },
  {
    id: 'p-ewe',
    kind: 'public',
    streetAddress: 'Bahnhofstraße 12',
    postalCode: '82467',
    municipality: 'Garmisch-Partenkirchen',
    lat: 47.49138,
    lon: 11.09622,
    provider: 'EWE Go',
    maxKw: 22,
    dc: false,
  },
  {
    id: 'p-aral',
    kind: 'public',
    streetAddress: 'Augsburger Straße 20',
    postalCode: '86368',
    municipality: 'Gersthofen',
    lat: 48.42347,
    lon: 10.87465,
    provider: 'Aral pulse',
    maxKw: 300,
    dc: true,
  },
  {
    id: 'p-maingau',
    kind: 'public',
    streetAddress: 'Münchener Straße 30',
    postalCode: '83022',
    municipality: 'Rosenheim',
    lat: 47.85374,
    lon: 12.12198,
    provider: 'Stadtwerke Rosenheim',
    maxKw: 22,
    dc: false,
  },
];

export function formattedAddress(p: Place): string {
  return `${p.streetAddress}, ${p.postalCode} ${p.municipality}, Germany`;
}
