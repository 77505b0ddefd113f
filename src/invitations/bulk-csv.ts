import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';

/** The columns Foyer reads, whatever the file calls them. */
export interface BulkColumns {
  email: number;
  displayName?: number;
  redirectUrl?: number;
  sendEmail?: number;
  message?: number;
  groups?: number;
}

/** One data line of an upload, as written in the file (trimmed). */
export interface BulkLine {
  /** The row number a spreadsheet shows (blank lines and the header lines count). */
  line: number;
  email: string;
  displayName: string;
  redirectUrl: string;
  sendEmail: string;
  message: string;
  groups: string;
}

export type BulkFormat = 'entra' | 'plain';

/** A problem with the file as a whole: answered with 400 before anything is written. */
export class BulkFileError extends Error {}

/** Entra's bulk invite template, as `GET /v1.0/foyer/bulkInvitations/template` serves it. */
export const ENTRA_TEMPLATE = [
  'version:v1.0',
  'Email address to invite [inviteeEmail] Required,Redirection url [inviteRedirectURL] Required,Send invitation message (true or false) [sendEmail],Customized invitation message [customizedMessageBody],Name of invitee [inviteeName]',
  'Example: someone@partner.test,https://myapps.example.test,TRUE,Welcome!,Someone at Partner',
  '',
].join('\r\n');

/** Entra's bracketed property names → our columns. */
const entraProperties: Record<string, keyof BulkColumns> = {
  inviteeemail: 'email',
  inviteredirecturl: 'redirectUrl',
  sendemail: 'sendEmail',
  customizedmessagebody: 'message',
  inviteename: 'displayName',
};
/** The plain format's header names → our columns. */
const plainHeaders: Record<string, keyof BulkColumns> = {
  email: 'email',
  displayname: 'displayName',
  redirecturl: 'redirectUrl',
  sendemail: 'sendEmail',
  message: 'message',
  groups: 'groups',
};

function entraColumns(header: string[]): BulkColumns {
  const columns: Partial<BulkColumns> = {};
  header.forEach((cell, i) => {
    const property = /\[([A-Za-z]+)\]/.exec(cell)?.[1]?.toLowerCase();
    const column = property ? entraProperties[property] : undefined;
    if (column && columns[column] === undefined) columns[column] = i;
  });
  if (columns.email === undefined) throw new BulkFileError('The header row has no [inviteeEmail] column.');
  if (columns.redirectUrl === undefined) throw new BulkFileError('The header row has no [inviteRedirectURL] column.');
  return columns as BulkColumns;
}

function plainColumns(header: string[]): BulkColumns {
  const columns: Partial<BulkColumns> = {};
  header.forEach((cell, i) => {
    const column =
      plainHeaders[
        cell
          .trim()
          .toLowerCase()
          .replace(/[\s_-]/g, '')
      ];
    if (column && columns[column] === undefined) columns[column] = i;
  });
  if (columns.email === undefined)
    throw new BulkFileError("The file is neither Entra's bulk invite template (first line 'version:v1.0') nor a CSV whose header has an 'email' column.");
  return columns as BulkColumns;
}

/** Rejects content that is not text: NUL bytes or invalid UTF-8. */
function textOnly(): (chunk: Buffer) => void {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return (chunk) => {
    if (chunk.includes(0)) throw new BulkFileError('The file is not a CSV text file (it contains binary data).');
    try {
      decoder.decode(chunk, { stream: true });
    } catch {
      throw new BulkFileError('The file is not UTF-8 text. Save it as "CSV UTF-8" and upload it again.');
    }
  };
}

/** Whether the file starts with the template's `version:v1.0` line (read from its first bytes). */
async function isEntraTemplate(open: () => Readable): Promise<boolean> {
  const stream = open();
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) return /^(\uFEFF)?"?version:\s*v1\.0"?\s*(,|\r|\n|$)/i.test(chunk.toString('utf8', 0, 64));
    return false;
  } finally {
    stream.destroy();
  }
}

/**
 * Reads an upload: detects the format (Entra's template or a plain CSV), maps the header to
 * columns, skips the template's `Example:` row and blank lines, and yields the data lines in
 * batches of `batchSize` (one hand-over per line would cost more than reading it). Throws
 * BulkFileError for problems with the file as a whole (not text, no usable header, no data
 * lines, more than `maxRows` lines). `open` gives the file from its start.
 */
export async function* readBulkFile(
  open: () => Readable,
  options: { maxRows: number; batchSize: number; onFormat?: (format: BulkFormat) => void },
): AsyncGenerator<BulkLine[]> {
  // The one-cell version line is skipped before parsing: with it as the first record, csv-parse
  // builds an error object for every later record (column count differs), a tenth of the work.
  const entra = await isEntraTemplate(open);
  const source = open();
  const checkText = textOnly();
  // Blank lines come through as records and are counted here, to number the lines as a
  // spreadsheet does: csv-parse's own `info` per record costs a third of the parsing.
  const parser = parse({ bom: true, relax_column_count: true, from_line: entra ? 2 : 1 });
  source.on('data', (chunk: Buffer) => {
    try {
      checkText(chunk);
    } catch (error) {
      parser.destroy(error as Error);
      source.destroy();
    }
  });
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);

  const format: BulkFormat = entra ? 'entra' : 'plain';
  options.onFormat?.(format);
  let columns: BulkColumns | null = null;
  let rows = 0;
  let batch: BulkLine[] = [];
  /** The spreadsheet row of the current record (a quoted newline stays inside its row). */
  let line = entra ? 1 : 0;
  const cell = (record: string[], i: number | undefined) => (i === undefined ? '' : (record[i] ?? '').trim());
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      line++;
      if (record.every((c) => c.trim() === '')) continue;
      if (columns === null) {
        columns = entra ? entraColumns(record) : plainColumns(record);
        continue;
      }
      if (format === 'entra' && /^example:/i.test((record[0] ?? '').trim())) continue;
      if (++rows > options.maxRows) throw new BulkFileError(`The file has more than ${options.maxRows} lines to invite; split it into smaller files.`);
      batch.push({
        line,
        email: cell(record, columns.email),
        displayName: cell(record, columns.displayName),
        redirectUrl: cell(record, columns.redirectUrl),
        sendEmail: cell(record, columns.sendEmail),
        message: cell(record, columns.message),
        groups: cell(record, columns.groups),
      });
      if (batch.length === options.batchSize) {
        yield batch;
        batch = [];
      }
    }
  } catch (error) {
    if (error instanceof BulkFileError) throw error;
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof BulkFileError) throw cause;
    // csv-parse's errors say what is wrong and where (an unclosed quote on line N).
    throw new BulkFileError(`The file is not valid CSV: ${(error as Error).message}`);
  } finally {
    // A reader that stops early (a problem found in a line) closes the file too.
    source.destroy();
  }
  if (columns === null) throw new BulkFileError('The file is empty: it needs a header row and at least one line to invite.');
  if (rows === 0) throw new BulkFileError('The file has a header but no lines to invite.');
  if (batch.length > 0) yield batch;
}
