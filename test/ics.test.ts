import { describe, expect, it } from 'vitest';
import { meetingIcs } from '../src/collaboration/ics.js';

/** The content lines of an iCalendar text, unfolded (RFC 5545 3.1), each split into name, parameters and value. */
function contentLines(ics: string) {
  expect(ics.endsWith('\r\n')).toBe(true);
  // A line break is CRLF and nothing else: a lone CR or LF would start a line of its own in some readers.
  expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  const physical = ics.slice(0, -2).split('\r\n');
  for (const line of physical) expect(Buffer.byteLength(line, 'utf8'), line).toBeLessThanOrEqual(75);
  const unfolded = ics
    .slice(0, -2)
    .replace(/\r\n[ \t]/g, '')
    .split('\r\n');
  return unfolded.map((line) => {
    // name *(";" param) ":" value, where a quoted parameter value may hold ; : and , (RFC 5545 3.1).
    // eslint-disable-next-line no-control-regex -- the grammar excludes control characters
    const m = /^([A-Z-]+)((?:;[A-Z-]+=(?:"[^"\x00-\x08\x0a-\x1f\x7f]*"|[^";:,\x00-\x1f\x7f]*))*):(.*)$/.exec(line);
    expect(m, `not a content line: ${JSON.stringify(line)}`).not.toBeNull();
    const params = [...m![2]!.matchAll(/;([A-Z-]+)=("[^"]*"|[^;]*)/g)].map((p) => [p[1]!, p[2]!] as const);
    return { name: m![1]!, params: Object.fromEntries(params), value: m![3]! };
  });
}

/** A TEXT value as a reader decodes it (RFC 5545 3.3.11). */
const decodeText = (v: string) => v.replace(/\\([\\;,nN])/g, (_m, c: string) => (c === 'n' || c === 'N' ? '\n' : c));

const hostile = [
  'Eve "the" Attacker',
  'x;ROLE=CHAIR;RSVP=FALSE',
  'Mallory:mailto:mallory@evil.test',
  'Smith, John',
  'Line one\nATTENDEE:mailto:injected@evil.test',
  'Carriage\rreturn\r\nand\u0000nul\u0007bell',
  'back\\slash ^caret',
  'Ωμέγα Ünïcødé 名前 '.repeat(6),
];

describe('meeting invitations as iCalendar', () => {
  const ics = meetingIcs({
    id: '0192f0c4-0000-7000-8000-000000000001',
    subject: 'Plan; review, "Q4"\nATTENDEE:mailto:x@evil.test',
    agenda: 'Bring notes\r\nand\rcoffee \\ tea',
    start: '2026-11-02T10:00:00.000Z',
    end: '2026-11-02T11:00:00.000Z',
    joinUrl: 'https://foyer.test/meet/0192f0c4-0000-7000-8000-000000000001',
    organizer: { name: 'Olga "Boss"; Owner', email: 'olga@contoso.test' },
    attendees: hostile.map((name, i) => ({ name, email: `guest${i}@fabrikam.test` })),
    now: '2026-11-01T09:00:00.000Z',
  });
  const lines = contentLines(ics);

  it('writes one ATTENDEE line per attendee, whatever the names hold', () => {
    const attendees = lines.filter((l) => l.name === 'ATTENDEE');
    expect(attendees.map((a) => a.value)).toEqual(hostile.map((_, i) => `mailto:guest${i}@fabrikam.test`));
    for (const a of attendees) expect(a.params).toMatchObject({ ROLE: 'REQ-PARTICIPANT', RSVP: 'TRUE' });
    expect(lines.filter((l) => l.name === 'ORGANIZER').map((l) => l.value)).toEqual(['mailto:olga@contoso.test']);
  });

  it('quotes every parameter value, without quotes or control characters inside', () => {
    const cns = lines.filter((l) => l.params.CN !== undefined).map((l) => l.params.CN!);
    expect(cns).toHaveLength(hostile.length + 1);
    // eslint-disable-next-line no-control-regex -- a quoted value holds no control character
    for (const cn of cns) expect(cn).toMatch(/^"[^"\x00-\x1f\x7f]*"$/);
    const names = cns.map((cn) => cn.slice(1, -1));
    expect(names[0]).toBe("Olga 'Boss'; Owner");
    expect(names.slice(1)).toEqual([
      "Eve 'the' Attacker",
      'x;ROLE=CHAIR;RSVP=FALSE',
      'Mallory:mailto:mallory@evil.test',
      'Smith, John',
      'Line one ATTENDEE:mailto:injected@evil.test',
      'Carriage return and nul bell',
      'back\\slash ^caret',
      'Ωμέγα Ünïcødé 名前 '.repeat(6).trim(),
    ]);
  });

  it('escapes text values, line breaks of every kind included', () => {
    const value = (name: string) => decodeText(lines.find((l) => l.name === name)!.value);
    expect(value('SUMMARY')).toBe('Plan; review, "Q4"\nATTENDEE:mailto:x@evil.test');
    expect(value('DESCRIPTION')).toBe(`Bring notes\nand\ncoffee \\ tea\n\nJoin: https://foyer.test/meet/0192f0c4-0000-7000-8000-000000000001`);
    expect(lines.filter((l) => l.name === 'BEGIN').map((l) => l.value)).toEqual(['VCALENDAR', 'VEVENT']);
  });
});
