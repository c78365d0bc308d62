// The words people use for the telematic values they want most, in English and German. BMW's catalogue names are
// technical ("Charging status of high-voltage battery" is the state of charge), so a search for "state of charge",
// "SoC" or "Ladestand" found nothing, or the wrong thing. Every picker and the command line search these words too.

/** Words for one descriptor, lower case; a word may be a phrase. */
export interface DescriptorWords {
  en: readonly string[];
  de: readonly string[];
}

const WINDOW = { en: ['windows', 'window', 'windows closed'], de: ['fenster', 'fenster geschlossen'] };
const TYRE = { en: ['tyre pressure', 'tire pressure', 'tyres', 'tires'], de: ['reifendruck', 'reifen', 'luftdruck'] };

/** The table: descriptor ID -> words. Each ID is one of the catalogue's (a test checks it). */
export const DESCRIPTOR_WORDS: Readonly<Record<string, DescriptorWords>> = {
  'vehicle.drivetrain.batteryManagement.header': {
    en: ['state of charge', 'soc', 'battery', 'battery level', 'charge level', 'battery percentage'],
    de: ['ladestand', 'ladezustand', 'akkustand', 'akku', 'batterie', 'batteriestand'],
  },
  'vehicle.drivetrain.electricEngine.kombiRemainingElectricRange': {
    en: ['range', 'electric range', 'remaining range', 'ev range'],
    de: ['reichweite', 'elektrische reichweite', 'restreichweite'],
  },
  'vehicle.drivetrain.totalRemainingRange': { en: ['total range', 'range'], de: ['gesamtreichweite', 'reichweite'] },
  'vehicle.vehicle.travelledDistance': {
    en: ['odometer', 'mileage', 'kilometres', 'kilometers', 'distance travelled'],
    de: ['kilometerstand', 'laufleistung', 'tachostand'],
  },
  'vehicle.drivetrain.electricEngine.charging.status': {
    en: ['charging status', 'charging', 'is charging', 'charge status'],
    de: ['ladestatus', 'laden', 'lädt', 'ladevorgang'],
  },
  'vehicle.powertrain.electric.battery.charging.power': { en: ['charging power', 'power', 'charge rate', 'kw'], de: ['ladeleistung', 'leistung'] },
  'vehicle.powertrain.electric.battery.stateOfCharge.target': {
    en: ['target soc', 'target state of charge', 'charge limit', 'charging target'],
    de: ['ladeziel', 'ladegrenze', 'ladelimit', 'ziel-ladestand'],
  },
  'vehicle.body.chargingPort.status': {
    en: ['plugged', 'plugged in', 'plug', 'charging cable', 'cable'],
    de: ['eingesteckt', 'angesteckt', 'stecker', 'ladekabel'],
  },
  'vehicle.drivetrain.electricEngine.charging.timeToFullyCharged': {
    en: ['time to full', 'charging time', 'remaining charging time', 'time remaining'],
    de: ['restladezeit', 'ladedauer', 'ladezeit'],
  },
  'vehicle.drivetrain.electricEngine.charging.chargingMode': { en: ['charging mode', 'ac or dc'], de: ['lademodus', 'ladeart'] },
  'vehicle.drivetrain.batteryManagement.maxEnergy': {
    en: ['battery capacity', 'battery size', 'battery energy'],
    de: ['akkukapazität', 'batteriekapazität', 'akkugröße'],
  },
  'vehicle.cabin.door.lock.status': {
    en: ['locked', 'lock', 'doors locked', 'central locking', 'unlocked'],
    de: ['verriegelt', 'abgeschlossen', 'zugesperrt', 'zentralverriegelung', 'entriegelt'],
  },
  'vehicle.cabin.door.status': { en: ['doors', 'door', 'doors open', 'doors closed'], de: ['türen', 'tür', 'türen offen', 'türen geschlossen'] },
  'vehicle.cabin.window.row1.driver.status': WINDOW,
  'vehicle.cabin.window.row1.passenger.status': WINDOW,
  'vehicle.cabin.window.row2.driver.status': WINDOW,
  'vehicle.cabin.window.row2.passenger.status': WINDOW,
  'vehicle.body.trunk.isOpen': { en: ['trunk', 'boot', 'tailgate', 'trunk open'], de: ['kofferraum', 'heckklappe', 'kofferraum offen'] },
  'vehicle.body.trunk.isLocked': { en: ['trunk locked', 'boot locked'], de: ['kofferraum verriegelt'] },
  'vehicle.body.hood.isOpen': { en: ['hood', 'bonnet'], de: ['motorhaube', 'haube'] },
  'vehicle.cabin.sunroof.status': { en: ['sunroof', 'roof'], de: ['schiebedach', 'dach'] },
  'vehicle.cabin.infotainment.navigation.currentLocation.latitude': {
    en: ['location', 'position', 'gps', 'latitude', 'lat', 'where is the car'],
    de: ['standort', 'position', 'breitengrad', 'wo ist das auto'],
  },
  'vehicle.cabin.infotainment.navigation.currentLocation.longitude': {
    en: ['location', 'position', 'gps', 'longitude', 'lon', 'lng', 'where is the car'],
    de: ['standort', 'position', 'längengrad', 'wo ist das auto'],
  },
  'vehicle.cabin.infotainment.navigation.currentLocation.heading': { en: ['heading', 'direction', 'compass'], de: ['richtung', 'fahrtrichtung', 'kompass'] },
  'vehicle.drivetrain.fuelSystem.level': {
    en: ['fuel level', 'fuel', 'tank', 'petrol', 'gas tank'],
    de: ['tankfüllung', 'tankstand', 'tank', 'sprit', 'benzin', 'kraftstoff'],
  },
  'vehicle.drivetrain.fuelSystem.remainingFuel': { en: ['fuel litres', 'fuel liters', 'tank content'], de: ['tankinhalt', 'liter im tank'] },
  'vehicle.chassis.axle.row1.wheel.left.tire.pressure': TYRE,
  'vehicle.chassis.axle.row1.wheel.right.tire.pressure': TYRE,
  'vehicle.chassis.axle.row2.wheel.left.tire.pressure': TYRE,
  'vehicle.chassis.axle.row2.wheel.right.tire.pressure': TYRE,
  'vehicle.isMoving': { en: ['moving', 'driving', 'in motion', 'parked'], de: ['fährt', 'in bewegung', 'geparkt'] },
  // BMW's catalogue swaps the two descriptions: isIgnitionOn is the ignition ("Status of engine" in the catalogue).
  'vehicle.drivetrain.engine.isIgnitionOn': { en: ['ignition', 'ignition on'], de: ['zündung', 'zündung an'] },
  'vehicle.vehicle.preConditioning.activity': {
    en: ['preconditioning', 'climate', 'air conditioning', 'heating', 'climatisation'],
    de: ['vorklimatisierung', 'klimatisierung', 'standheizung', 'klima'],
  },
};

/** Lower case, blanks collapsed, ß as ss, so "State  of Charge" is "state of charge" and "AKKUGRÖSSE" "akkugrösse". */
export function normaliseWords(text: string): string {
  return text.toLowerCase().replace(/ß/g, 'ss').replace(/\s+/g, ' ').trim();
}

/** Every word of one descriptor, English then German (none for most). */
export function descriptorWords(id: string): string[] {
  const w = DESCRIPTOR_WORDS[id];
  return w ? [...w.en, ...w.de] : [];
}

/** The words of one descriptor as searches compare them (normaliseWords). */
export function searchWords(id: string): string[] {
  return descriptorWords(id).map(normaliseWords);
}

/** The descriptors one of whose words is exactly `text` (case and blanks ignored), in the table's order. */
export function descriptorsForWord(text: string): string[] {
  const q = normaliseWords(text);
  if (!q) return [];
  return Object.keys(DESCRIPTOR_WORDS).filter((id) => searchWords(id).includes(q));
}
