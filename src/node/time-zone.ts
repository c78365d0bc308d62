/**
 * The time zone of the machine this process runs on (an IANA name; UTC when it has none): where the command line's
 * and Node-RED's relative ranges start their days and months unless a zone is given.
 */
export function machineTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}
