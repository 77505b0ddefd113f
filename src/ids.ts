import { randomUUID } from 'node:crypto';

/** New object id (GUID, lower-case), as Graph uses for every directory object. */
export const newId = (): string => randomUUID();

export const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (value: string): boolean => guidPattern.test(value);
