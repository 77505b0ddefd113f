import { fetchRaw } from './api';

/**
 * Reads the first `limit` records of a CSV answer as it streams in, then stops the download: a
 * result file of half a million lines is never held by the browser just to show its start.
 * Quoted fields may hold commas, quotes and line breaks (RFC 4180); a leading BOM is dropped.
 */
export async function readCsv(path: string, limit: number, signal?: AbortSignal): Promise<{ rows: string[][]; more: boolean }> {
  const res = await fetchRaw(path, signal);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let afterQuote = false;
  let first = true;
  const endField = () => {
    row.push(field);
    field = '';
    afterQuote = false;
  };
  const endRow = () => {
    endField();
    if (row.length > 1 || row[0] !== '') rows.push(row);
    row = [];
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    let text = value;
    if (first) {
      text = text.replace(/^\uFEFF/, '');
      first = false;
    }
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else {
            quoted = false;
            afterQuote = true;
          }
        } else field += c;
      } else if (c === '"' && field === '' && !afterQuote) quoted = true;
      else if (c === ',') endField();
      else if (c === '\n') endRow();
      else if (c !== '\r') field += c;
      if (rows.length > limit) {
        await reader.cancel();
        return { rows: rows.slice(0, limit), more: true };
      }
    }
  }
  if (field !== '' || row.length > 0) endRow();
  return { rows, more: false };
}
