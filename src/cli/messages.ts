import { DEFAULT_API_BASE_URL, DEFAULT_AUTH_BASE_URL, DEFAULT_QUOTA_RESERVE } from '../node';

/**
 * The command line's own words, in English and German. What core says (BMW's errors and their hints) stays
 * English; so do the JSON and CSV the commands print, which scripts read.
 */
export type Language = 'en' | 'de';

/**
 * The language of the messages, as gettext picks it: the first of LC_ALL, LC_MESSAGES and LANG that is set and not
 * empty; German when it starts with "de" (de_DE.UTF-8, de_AT, de), else English (C, POSIX, en_GB.UTF-8, ...).
 */
export function languageOf(env: NodeJS.ProcessEnv): Language {
  for (const name of ['LC_ALL', 'LC_MESSAGES', 'LANG']) {
    const value = env[name];
    if (value) return /^de([_.@-]|$)/i.test(value) ? 'de' : 'en';
  }
  return 'en';
}

const en = {
  commands: {
    login: ['Log in (device code flow) and save the tokens', '(no call)'],
    vehicles: ['List the vehicles mapped to the account', '(1 call; none again within a day)'],
    'basic-data': ['Basic data of a vehicle', '(1 call; none again within a day)'],
    telematics: ['Telematic values of chosen descriptors', '(1 call; 3 the first time: container set-up)'],
    'charging-history': ['Charging sessions in a date range, JSON or CSV', '(1 call per page)'],
    'charging-settings': ['Location-based charging settings', '(1 call per page; none again within an hour)'],
    tyres: ['Tyre diagnosis', '(1 call; none again within an hour)'],
    image: ['Vehicle image to a file', '(1 call; none again within a day)'],
    containers: ['List containers, or delete one', '(1 call)'],
    quota: ['Calls used today and when the budget resets', '(no call)'],
    descriptors: ['Search the telematic catalogue', '(no call)'],
    bridge: ['Relay the live stream to your MQTT broker', '(no call; with --ha-discovery 1 per car, once)'],
    trips: ['The logbook: trips the bridge saw, CSV or JSON', '(no call)'],
    mcp: ['Serve the car to AI assistants (MCP on stdio)', '(as asked; never the reserve; cached answers free)'],
  } as Record<string, readonly [string, string]>,
  globalHelp: (commands: string) => `Usage: bmw-cardata <command> [options]

Reads your BMW's data through the BMW CarData Customer API (50 calls a day per account).

Commands:
${commands}

Options for every command:
  --config FILE      Account file (default ~/.config/bmw-cardata/account.json, or $BMW_CARDATA_CONFIG)
  --base-url URL     CarData API base URL (default ${DEFAULT_API_BASE_URL})
  --auth-url URL     BMW login base URL (default ${DEFAULT_AUTH_BASE_URL})
  --format json|csv  Output format (default json; CSV where the command's help offers it)
  --out FILE         Write the output to FILE instead of standard output
  --max-age AGE      Answer from the cache up to AGE (0: always ask BMW; 90s, 30m, 2h, 1d); by default basic
                     data, image and vehicles are kept a day, tyres and charging settings an hour
  -h, --help         Help for a command: bmw-cardata <command> --help

Exit codes: 0 done, 2 bad arguments, 3 login needed, 4 daily quota spent, 5 BMW or network error,
1 other (also: a local file that cannot be written).

Messages follow LANG (German for de_*, else English).`,
  commandHelp: {
    login: `Usage: bmw-cardata login --client-id ID [--print]

Runs BMW's device code login: prints a link and a code; open the link, log in with your BMW ID and approve.
The tokens are saved to the account file (mode 0600). The client ID comes from the BMW CarData portal; it can
also be given as $BMW_CARDATA_CLIENT_ID.
  --client-id ID   The CarData client ID
  --stream-url URL The CarData stream for the bridge, saved with the login (default BMW's; the simulator
                   prints its own)
  --print          Also print the tokens as JSON on standard output (to paste the refresh token into n8n)`,
    vehicles: 'Usage: bmw-cardata vehicles [--format json|csv] [--out FILE]\n\nLists the mapped vehicles (VIN, mapping type, mapped since).',
    'basic-data': 'Usage: bmw-cardata basic-data --vin VIN [--format json|csv] [--out FILE]',
    telematics: `Usage: bmw-cardata telematics --vin VIN --descriptors KEY[,KEY...] [--format json|csv] [--out FILE]

Reads the current values of catalogue descriptors. A container holding exactly these descriptors is found or
created once and reused afterwards. Find keys with: bmw-cardata descriptors --search "state of charge"`,
    'charging-history': `Usage: bmw-cardata charging-history --vin VIN (--from DATE --to DATE | --last RANGE) [--limit N]
                                  [--time-zone ZONE] [--format json|csv] [--out FILE]

  --from, --to     ISO 8601 dates or date-times (2026-01-01, 2026-01-31T18:00:00Z)
  --last RANGE     24h, 7d, 30d, this-month or last-month (months in --time-zone, default this machine's zone)
  --limit N        The newest N sessions of the range, newest first (stops there: saves calls)
CSV has one row per session with flat columns; a progress line goes to standard error. A session still in
progress has an empty end. With a "tariff" in the account file (as the bridge reads it), each row also has our
cost beside BMW's own cost and currency: tariffCost, tariffCurrency, tariffKwh, tariffMethod.`,
    'charging-settings': 'Usage: bmw-cardata charging-settings --vin VIN [--limit N] [--format json|csv] [--out FILE]',
    tyres: 'Usage: bmw-cardata tyres --vin VIN [--out FILE]',
    image: 'Usage: bmw-cardata image --vin VIN [--out FILE]\n\nSaves the vehicle image; without --out as VIN.png (the extension follows the image type).',
    containers: 'Usage: bmw-cardata containers [list | delete --container-id ID] [--format json|csv]',
    quota: 'Usage: bmw-cardata quota\n\nShows the calls counted today for the saved account (no call to BMW).',
    trips: `Usage: bmw-cardata trips (--from DATE --to DATE | --last RANGE) [--vin VIN] [--time-zone ZONE]
                       [--format json|csv] [--out FILE] [--state FILE]

The logbook of the trips the bridge saw finish, from its trip log (bridge-state.trips.jsonl beside the account
file, or beside --state FILE; it keeps a year): one row per trip that started in the range, oldest first, as CSV
(the default) or JSON. No call to BMW. Times are local to --time-zone (default this machine's zone), which each
row names; a figure the car did not send is an empty cell (the missing column names it), never 0, and the purpose
column is left empty for you to fill in (business, private, commute).
  --from, --to     ISO 8601 dates or date-times (a date alone is midnight UTC); a trip counts when it started
                   at --from or later and before --to
  --last RANGE     24h, 7d, 30d, this-month or last-month (months in --time-zone)
  --vin VIN        Only this car's trips
  --state FILE     The bridge's --state file, whose trip log to read`,
    mcp: `Usage: bmw-cardata mcp [--names VIN=NAME[,VIN=NAME...]] [--state FILE] [--max-age AGE]

Serves the car to AI assistants (Claude Desktop and others) as an MCP server on standard input and output, for
the account of the account file. Read-only tools: list_vehicles, vehicle_state, charging_sessions, quota,
search_descriptors. Every answer says its source (live, cache, BMW), its age and what it cost.
The assistant's calls count as unattended work: they never spend the last ${DEFAULT_QUOTA_RESERVE} calls of the day, which are kept
for the commands you type. Answers are kept in the cache (vehicles a day, charging sessions and values 10
minutes unless --max-age says otherwise); an answer from the cache costs nothing. It never creates or deletes a
container: vehicle_state reads BMW through a container set up by bmw-cardata telematics.
  --names LIST   Names of the cars: VIN=name, separated by commas (else the model name once known, else the VIN)
  --state FILE   The live data the bridge saves (default bridge-state.json beside the account file): vehicle_state
                 answers from it at no cost
Assistant configuration: command "npx", args ["bmw-cardata", "mcp"] (see the README).`,
    descriptors:
      'Usage: bmw-cardata descriptors [--search TEXT] [--format json|csv]\n\nSearches the bundled telematic catalogue, best match first: by key, name and description, and by the words people\nuse in English and German (e.g. "state of charge", "soc", "range", "odometer", "Ladestand", "Reifendruck").',
  } as Record<string, string>,
  seeHelp: 'see bmw-cardata --help',
  badUrl: (name: string, value: string) => `--${name} must be an http:// or https:// URL, not ${value} (see bmw-cardata --help)`,
  unknownOption: (option: string) => `unknown option ${option} (see bmw-cardata --help)`,
  required: (command: string, name: string) => `${command}: --${name} is required (see bmw-cardata ${command} --help)`,
  bridgeNotAtBmw: (authBaseUrl: string) =>
    `bridge: the account is logged in at ${authBaseUrl}, not at BMW, and BMW's stream would not take its tokens: give --stream-url (the simulator prints its stream as "Stream (MQTT)"), or log in again with --stream-url to save it`,
  notLoggedIn: (file: string) => `not logged in (no tokens in ${file})`,
  notLoggedInHint: 'Run: bmw-cardata login --client-id <your client ID>',
  tokensNotSaved: (error: string) =>
    `ERROR: ${error}: BMW has replaced the saved refresh token, and the new one could not be saved. It is kept in memory while this command runs; afterwards run bmw-cardata login again.`,
  containerNotRemembered: (error: string) => `could not remember the container: ${error}`,
  answerNotKept: (file: string, error: string) => `could not keep the answer in ${file}: ${error}`,
  noCsv: 'this command has no CSV output; use --format json',
  wrote: (file: string) => `wrote ${file}`,
  wroteImage: (file: string, type: string, bytes: number) => `wrote ${file} (${type}, ${bytes} bytes)`,
  page: (page: number, items: number, what: 'sessions' | 'locations') => `page ${page} · ${items} ${what}`,
  quota: (used: number, limit: number, resetsAt: string) => `quota: ${used}/${limit} calls used today, resets ${resetsAt}`,
  loginNeedsClientId: 'login: --client-id is required (from the BMW CarData portal; see bmw-cardata login --help)',
  savedClientId: (file: string) => `Using the client ID saved in ${file} (give --client-id to use another one)`,
  openLink: (link: string, uri: string, code: string) =>
    `Open this link, log in with your BMW ID and approve:\n\n  ${link}\n\n(or open ${uri} and enter the code ${code})`,
  waiting: (left: string) => `waiting for approval… ${left} left`,
  loggedIn: (file: string) => `Logged in. Tokens saved to ${file}`,
  streamUrlForBridge: 'For the bridge, log in again with --stream-url (the stream of this login service; the simulator prints it).',
  maxAge: (error: string) => `--max-age: ${error}`,
  lastAndRange: (command: string) => `${command}: give either --last or --from/--to, not both`,
  lastValues: (command: string, ranges: string) => `${command}: --last must be one of ${ranges}`,
  noRange: (command: string, ranges: string) => `${command}: give --last ${ranges}, or --from DATE and --to DATE (see bmw-cardata ${command} --help)`,
  sessions: (count: number, from: string, to: string, last: string) => `${count} session${count === 1 ? '' : 's'} from ${from} to ${to}${last}`,
  lastIn: (last: string, zone: string) => ` (${last} in ${zone})`,
  trips: (count: number, from: string, to: string, last: string, zone: string) =>
    `${count} trip${count === 1 ? '' : 's'} from ${from} to ${to}${last}, times in ${zone}`,
  noTripLog: (file: string) => ` (no trip log at ${file} yet: the bridge writes it)`,
  unknownContainerAction: (sub: string) => `containers: unknown action ${sub} (list or delete)`,
  unknownCommand: (command: string) => `unknown command: ${command}`,
  unexpectedArgument: (command: string, argument: string, hint: string) =>
    `${command}: unexpected argument ${argument}${hint}; see bmw-cardata ${command} --help`,
  toSearch: (text: string) => ` (to search: --search ${text})`,
  badFormat: (format: string) => `--format must be json or csv, not ${format}`,
  onlyJson: (command: string) => `${command}: no CSV output, only JSON (see bmw-cardata ${command} --help)`,
  hint: 'hint',
};

export type Messages = typeof en;

const de: Messages = {
  commands: {
    login: ['Anmelden (Device-Code-Verfahren) und die Tokens speichern', '(kein Aufruf)'],
    vehicles: ['Die dem Konto zugeordneten Fahrzeuge auflisten', '(1 Aufruf; einen Tag lang keiner mehr)'],
    'basic-data': ['Stammdaten eines Fahrzeugs', '(1 Aufruf; einen Tag lang keiner mehr)'],
    telematics: ['Telematikwerte ausgewählter Deskriptoren', '(1 Aufruf; beim ersten Mal 3: Container anlegen)'],
    'charging-history': ['Ladevorgänge eines Zeitraums, JSON oder CSV', '(1 Aufruf pro Seite)'],
    'charging-settings': ['Ortsbezogene Ladeeinstellungen', '(1 Aufruf pro Seite; eine Stunde lang keiner mehr)'],
    tyres: ['Reifendiagnose', '(1 Aufruf; eine Stunde lang keiner mehr)'],
    image: ['Fahrzeugbild in eine Datei', '(1 Aufruf; einen Tag lang keiner mehr)'],
    containers: ['Container auflisten oder einen löschen', '(1 Aufruf)'],
    quota: ['Heute verbrauchte Aufrufe und wann das Kontingent neu beginnt', '(kein Aufruf)'],
    descriptors: ['Im Telematik-Katalog suchen', '(kein Aufruf)'],
    bridge: ['Den Live-Stream an Ihren MQTT-Broker weitergeben', '(kein Aufruf; mit --ha-discovery 1 pro Fahrzeug, einmal)'],
    trips: ['Fahrtenbuch: Fahrten, die die Bridge sah, CSV oder JSON', '(kein Aufruf)'],
    mcp: ['Das Fahrzeug für KI-Assistenten bereitstellen (MCP über stdio)', '(nach Bedarf; nie die Reserve; Antworten aus dem Cache kostenlos)'],
  },
  globalHelp: (commands: string) => `Aufruf: bmw-cardata <Befehl> [Optionen]

Liest die Daten Ihres BMW über die BMW CarData Customer API (50 Aufrufe pro Tag und Konto).

Befehle:
${commands}

Optionen für jeden Befehl:
  --config DATEI     Kontodatei (Standard ~/.config/bmw-cardata/account.json oder $BMW_CARDATA_CONFIG)
  --base-url URL     Basis-URL der CarData-API (Standard ${DEFAULT_API_BASE_URL})
  --auth-url URL     Basis-URL der BMW-Anmeldung (Standard ${DEFAULT_AUTH_BASE_URL})
  --format json|csv  Ausgabeformat (Standard json; CSV, wo die Hilfe des Befehls es anbietet)
  --out DATEI        Die Ausgabe in DATEI schreiben statt auf die Standardausgabe
  --max-age ALTER    Bis zu diesem ALTER aus dem Cache antworten (0: immer BMW fragen; 90s, 30m, 2h, 1d); ohne
                     Angabe gelten Stammdaten, Bild und Fahrzeuge einen Tag, Reifen und Ladeeinstellungen eine Stunde
  -h, --help         Hilfe zu einem Befehl: bmw-cardata <Befehl> --help

Exit-Codes: 0 erledigt, 2 falsche Argumente, 3 Anmeldung nötig, 4 Tageskontingent verbraucht, 5 Fehler bei BMW
oder im Netz, 1 Sonstiges (auch: eine lokale Datei, die nicht geschrieben werden kann).

Die Meldungen folgen LANG (Deutsch bei de_*, sonst Englisch).`,
  commandHelp: {
    login: `Aufruf: bmw-cardata login --client-id ID [--print]

Führt die Device-Code-Anmeldung von BMW aus: gibt einen Link und einen Code aus; öffnen Sie den Link, melden Sie
sich mit Ihrer BMW ID an und bestätigen Sie. Die Tokens werden in der Kontodatei gespeichert (Modus 0600). Die
Client-ID stammt aus dem BMW CarData-Portal; sie kann auch als $BMW_CARDATA_CLIENT_ID angegeben werden.
  --client-id ID   Die CarData-Client-ID
  --stream-url URL Der CarData-Stream für die Bridge, mit der Anmeldung gespeichert (Standard der von BMW; der
                   Simulator gibt seinen eigenen aus)
  --print          Die Tokens zusätzlich als JSON auf die Standardausgabe schreiben (um das Refresh-Token in n8n
                   einzufügen)`,
    vehicles:
      'Aufruf: bmw-cardata vehicles [--format json|csv] [--out DATEI]\n\nListet die zugeordneten Fahrzeuge auf (VIN, Art der Zuordnung, zugeordnet seit).',
    'basic-data': 'Aufruf: bmw-cardata basic-data --vin VIN [--format json|csv] [--out DATEI]',
    telematics: `Aufruf: bmw-cardata telematics --vin VIN --descriptors SCHLÜSSEL[,SCHLÜSSEL...] [--format json|csv] [--out DATEI]

Liest die aktuellen Werte von Katalog-Deskriptoren. Ein Container mit genau diesen Deskriptoren wird einmal
gefunden oder angelegt und danach wiederverwendet. Schlüssel finden Sie mit: bmw-cardata descriptors --search "Ladestand"`,
    'charging-history': `Aufruf: bmw-cardata charging-history --vin VIN (--from DATUM --to DATUM | --last ZEITRAUM) [--limit N]
                                   [--time-zone ZONE] [--format json|csv] [--out DATEI]

  --from, --to     Datum oder Zeitpunkt nach ISO 8601 (2026-01-01, 2026-01-31T18:00:00Z)
  --last ZEITRAUM  24h, 7d, 30d, this-month oder last-month (Monate in --time-zone, Standard die Zone dieses Rechners)
  --limit N        Die neuesten N Ladevorgänge des Zeitraums, neueste zuerst (hört dort auf: spart Aufrufe)
CSV hat eine Zeile pro Ladevorgang mit flachen Spalten; eine Fortschrittszeile geht auf die Standardfehlerausgabe.
Ein noch laufender Ladevorgang hat ein leeres Ende. Mit einem "tariff" in der Kontodatei (wie ihn die Bridge liest)
hat jede Zeile zusätzlich unsere Kosten neben BMWs eigenem cost und currency: tariffCost, tariffCurrency, tariffKwh,
tariffMethod.`,
    'charging-settings': 'Aufruf: bmw-cardata charging-settings --vin VIN [--limit N] [--format json|csv] [--out DATEI]',
    tyres: 'Aufruf: bmw-cardata tyres --vin VIN [--out DATEI]',
    image: 'Aufruf: bmw-cardata image --vin VIN [--out DATEI]\n\nSpeichert das Fahrzeugbild; ohne --out als VIN.png (die Endung folgt dem Bildtyp).',
    containers: 'Aufruf: bmw-cardata containers [list | delete --container-id ID] [--format json|csv]',
    quota: 'Aufruf: bmw-cardata quota\n\nZeigt die heute gezählten Aufrufe des gespeicherten Kontos (kein Aufruf bei BMW).',
    trips: `Aufruf: bmw-cardata trips (--from DATUM --to DATUM | --last ZEITRAUM) [--vin VIN] [--time-zone ZONE]
                        [--format json|csv] [--out DATEI] [--state DATEI]

Das Fahrtenbuch der Fahrten, deren Ende die Bridge gesehen hat, aus ihrem Fahrtenprotokoll (bridge-state.trips.jsonl
neben der Kontodatei oder neben --state DATEI; es reicht ein Jahr zurück): eine Zeile pro Fahrt, die im Zeitraum
begann, die älteste zuerst, als CSV (Standard) oder JSON. Kein Aufruf bei BMW. Die Zeiten gelten in --time-zone
(Standard: die Zone dieses Rechners), die jede Zeile nennt; ein Wert, den das Fahrzeug nicht gesendet hat, ist eine
leere Zelle (die Spalte missing nennt ihn), nie 0, und die Spalte purpose bleibt für Sie leer (Zweck: geschäftlich,
privat, Arbeitsweg).
  --from, --to     ISO-8601-Daten oder -Zeitpunkte (ein Datum allein ist Mitternacht UTC); eine Fahrt zählt, wenn
                   sie ab --from und vor --to begann
  --last ZEITRAUM  24h, 7d, 30d, this-month oder last-month (Monate in --time-zone)
  --vin VIN        Nur die Fahrten dieses Fahrzeugs
  --state DATEI    Die Zustandsdatei der Bridge (ihr --state), deren Fahrtenprotokoll gelesen wird`,
    mcp: `Aufruf: bmw-cardata mcp [--names VIN=NAME[,VIN=NAME...]] [--state DATEI] [--max-age ALTER]

Stellt das Fahrzeug KI-Assistenten (Claude Desktop und anderen) als MCP-Server auf Standardein- und -ausgabe
bereit, für das Konto der Kontodatei. Nur lesende Werkzeuge: list_vehicles, vehicle_state, charging_sessions, quota,
search_descriptors. Jede Antwort nennt ihre Quelle (live, Cache, BMW), ihr Alter und was sie gekostet hat.
Die Aufrufe des Assistenten zählen als unbeaufsichtigte Arbeit: Sie verbrauchen nie die letzten ${DEFAULT_QUOTA_RESERVE} Aufrufe des Tages,
die für Ihre eingetippten Befehle bleiben. Antworten bleiben im Cache (Fahrzeuge einen Tag, Ladevorgänge und Werte
10 Minuten, sofern --max-age nichts anderes sagt); eine Antwort aus dem Cache kostet nichts. Es legt nie einen
Container an und löscht keinen: vehicle_state liest bei BMW über einen Container, den bmw-cardata telematics angelegt hat.
  --names LISTE  Namen der Fahrzeuge: VIN=Name, durch Kommas getrennt (sonst der Modellname, sobald bekannt, sonst die VIN)
  --state DATEI  Die Live-Daten, die die Bridge speichert (Standard bridge-state.json neben der Kontodatei):
                 vehicle_state antwortet daraus ohne Kosten
Konfiguration des Assistenten: Befehl "npx", Argumente ["bmw-cardata", "mcp"] (siehe README).`,
    descriptors:
      'Aufruf: bmw-cardata descriptors [--search TEXT] [--format json|csv]\n\nDurchsucht den mitgelieferten Telematik-Katalog, beste Treffer zuerst: nach Schlüssel, Name und Beschreibung und nach den\nWörtern, die man auf Deutsch und Englisch verwendet (z. B. "Ladestand", "Reifendruck", "Reichweite", "state of charge", "soc").',
  },
  seeHelp: 'siehe bmw-cardata --help',
  badUrl: (name: string, value: string) => `--${name} muss eine http://- oder https://-URL sein, nicht ${value} (siehe bmw-cardata --help)`,
  unknownOption: (option: string) => `unbekannte Option ${option} (siehe bmw-cardata --help)`,
  required: (command: string, name: string) => `${command}: --${name} fehlt (siehe bmw-cardata ${command} --help)`,
  bridgeNotAtBmw: (authBaseUrl: string) =>
    `bridge: Das Konto ist bei ${authBaseUrl} angemeldet, nicht bei BMW, und der Stream von BMW würde seine Tokens nicht annehmen: Geben Sie --stream-url an (der Simulator gibt seinen Stream als "Stream (MQTT)" aus) oder melden Sie sich erneut mit --stream-url an, um ihn zu speichern`,
  notLoggedIn: (file: string) => `nicht angemeldet (keine Tokens in ${file})`,
  notLoggedInHint: 'Führen Sie aus: bmw-cardata login --client-id <Ihre Client-ID>',
  tokensNotSaved: (error: string) =>
    `FEHLER: ${error}: BMW hat das gespeicherte Refresh-Token ersetzt, und das neue konnte nicht gespeichert werden. Es bleibt im Speicher, solange dieser Befehl läuft; führen Sie danach erneut bmw-cardata login aus.`,
  containerNotRemembered: (error: string) => `der Container konnte nicht gespeichert werden: ${error}`,
  answerNotKept: (file: string, error: string) => `die Antwort konnte nicht in ${file} gespeichert werden: ${error}`,
  noCsv: 'dieser Befehl hat keine CSV-Ausgabe; verwenden Sie --format json',
  wrote: (file: string) => `${file} geschrieben`,
  wroteImage: (file: string, type: string, bytes: number) => `${file} geschrieben (${type}, ${bytes} Bytes)`,
  page: (page: number, items: number, what: 'sessions' | 'locations') => `Seite ${page} · ${items} ${what === 'sessions' ? 'Ladevorgänge' : 'Orte'}`,
  quota: (used: number, limit: number, resetsAt: string) => `Kontingent: heute ${used}/${limit} Aufrufe verbraucht, neu ab ${resetsAt}`,
  loginNeedsClientId: 'login: --client-id fehlt (aus dem BMW CarData-Portal; siehe bmw-cardata login --help)',
  savedClientId: (file: string) => `Die in ${file} gespeicherte Client-ID wird verwendet (mit --client-id eine andere angeben)`,
  openLink: (link: string, uri: string, code: string) =>
    `Öffnen Sie diesen Link, melden Sie sich mit Ihrer BMW ID an und bestätigen Sie:\n\n  ${link}\n\n(oder öffnen Sie ${uri} und geben Sie den Code ${code} ein)`,
  waiting: (left: string) => `warte auf Bestätigung… noch ${left}`,
  loggedIn: (file: string) => `Angemeldet. Tokens gespeichert in ${file}`,
  streamUrlForBridge: 'Für die Bridge melden Sie sich erneut mit --stream-url an (dem Stream dieses Anmeldedienstes; der Simulator gibt ihn aus).',
  maxAge: (error: string) => `--max-age: ${error}`,
  lastAndRange: (command: string) => `${command}: entweder --last oder --from/--to angeben, nicht beides`,
  lastValues: (command: string, ranges: string) => `${command}: --last muss einer dieser Werte sein: ${ranges}`,
  noRange: (command: string, ranges: string) => `${command}: --last ${ranges} angeben oder --from DATUM und --to DATUM (siehe bmw-cardata ${command} --help)`,
  sessions: (count: number, from: string, to: string, last: string) => `${count} ${count === 1 ? 'Ladevorgang' : 'Ladevorgänge'} von ${from} bis ${to}${last}`,
  lastIn: (last: string, zone: string) => ` (${last} in ${zone})`,
  trips: (count: number, from: string, to: string, last: string, zone: string) =>
    `${count} ${count === 1 ? 'Fahrt' : 'Fahrten'} von ${from} bis ${to}${last}, Zeiten in ${zone}`,
  noTripLog: (file: string) => ` (noch kein Fahrtenprotokoll unter ${file}: die Bridge schreibt es)`,
  unknownContainerAction: (sub: string) => `containers: unbekannte Aktion ${sub} (list oder delete)`,
  unknownCommand: (command: string) => `unbekannter Befehl: ${command}`,
  unexpectedArgument: (command: string, argument: string, hint: string) =>
    `${command}: unerwartetes Argument ${argument}${hint}; siehe bmw-cardata ${command} --help`,
  toSearch: (text: string) => ` (zum Suchen: --search ${text})`,
  badFormat: (format: string) => `--format muss json oder csv sein, nicht ${format}`,
  onlyJson: (command: string) => `${command}: keine CSV-Ausgabe, nur JSON (siehe bmw-cardata ${command} --help)`,
  hint: 'Hinweis',
};

/** One message table per language, with the same keys. */
export const MESSAGES: Readonly<Record<Language, Messages>> = { en, de };

/** The messages in the language of the environment. */
export function messagesFor(env: NodeJS.ProcessEnv): Messages {
  return MESSAGES[languageOf(env)];
}
