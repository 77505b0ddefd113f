/**
 * Escapes a TEXT value of iCalendar (RFC 5545 3.3.11): backslash, semicolon and comma escaped,
 * every line break (CRLF, LF or a lone CR) as \n, other control characters (tab aside) dropped.
 */
const text = (v: string) =>
  v
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n')
    // eslint-disable-next-line no-control-regex -- removing control characters is the point
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');

/**
 * A parameter value, always quoted (RFC 5545 3.2): a quoted value may hold ; : and , but no
 * DQUOTE and no control character, so a quote becomes an apostrophe and a run of control
 * characters (a line break, say) one space. Parameter values have no backslash escapes.
 */
const param = (v: string) =>
  `"${v
    .replace(/"/g, "'")
    // eslint-disable-next-line no-control-regex -- replacing control characters is the point
    .replace(/[\x00-\x1f\x7f]+/g, ' ')
    .trim()}"`;
const stamp = (iso: string) => iso.replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/** Folds a content line at 75 octets, as RFC 5545 3.1 asks. */
function fold(line: string): string {
  const bytes = Buffer.from(line, 'utf8');
  if (bytes.length <= 75) return line;
  const parts: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + (start === 0 ? 75 : 74), bytes.length);
    // Never split a UTF-8 sequence: back up to a character boundary.
    while (end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
    parts.push(bytes.subarray(start, end).toString('utf8'));
    start = end;
  }
  return parts.join('\r\n ');
}

/** A meeting request (METHOD:REQUEST) for calendar programs. */
export function meetingIcs(m: {
  id: string;
  subject: string;
  agenda: string;
  start: string;
  end: string;
  joinUrl: string;
  organizer: { name: string; email: string | null };
  attendees: { name: string; email: string }[];
  now: string;
}): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Foyer//Meetings//EN',
    'METHOD:REQUEST',
    'BEGIN:VEVENT',
    `UID:${m.id}@foyer`,
    `DTSTAMP:${stamp(m.now)}`,
    `DTSTART:${stamp(m.start)}`,
    `DTEND:${stamp(m.end)}`,
    `SUMMARY:${text(m.subject)}`,
    `DESCRIPTION:${text(`${m.agenda ? `${m.agenda}\n\n` : ''}Join: ${m.joinUrl}`)}`,
    `URL:${m.joinUrl}`,
    `LOCATION:${text(m.joinUrl)}`,
    ...(m.organizer.email ? [`ORGANIZER;CN=${param(m.organizer.name)}:mailto:${m.organizer.email}`] : []),
    ...m.attendees.map((a) => `ATTENDEE;CN=${param(a.name)};ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:${a.email}`),
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return lines.map(fold).join('\r\n') + '\r\n';
}
