// Write notes across nodes (SPEC §11: a report on any node includes every node's traffic within 10 s).
// Each PostgreSQL batch that commits tells the other nodes which projects and hours it wrote, on one
// NOTIFY channel; each node applies what it hears to its own write logs (./writes.ts), so its in-memory
// readings of those hours are read again. A notice lost while a node's listening connection was down
// cannot be told from none: on reconnecting, the node takes every reading as stale.
import type { JobNote } from "../db/storage/jobs.ts";
import type { Storage } from "../db/storage/storage.ts";
import { hearOtherNodes } from "./source.ts";
import { noteEverythingChanged, notePersonsChanged, noteSubscriptionsChanged, noteWrite } from "./writes.ts";

const CHANNEL = "bantico_write_notes";
/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. */
const MAX_PAYLOAD = 7000;
const HOUR_MS = 3_600_000;

/** The notes a message can carry, by the letter that names them on the wire. */
const NOTES = { w: noteWrite, p: notePersonsChanged, s: noteSubscriptionsChanged } as const;
type NoteLetter = keyof typeof NOTES;
const LETTERS = new Map<JobNote["note"], NoteLetter>(Object.entries(NOTES).map(([letter, note]) => [note, letter as NoteLetter]));

/** [letter, project, hour start]: an hour is what readers check, so notes within one hour are one. */
type WireNote = [NoteLetter, string, number];

interface Message {
  /** The sending node, which has applied its own notes already. */
  from: string;
  notes: WireNote[];
}

/** The NOTIFYs that tell the other nodes of a batch's notes: each distinct note once, in as few messages as fit. */
export function announceNotes(nodeId: string, notes: readonly JobNote[]): { channel: string; payload: string }[] {
  const distinct = new Map<string, WireNote>();
  for (const { note, projectId, ts } of notes) {
    const letter = LETTERS.get(note);
    if (!letter) throw new Error(`a write note with no name on the wire: ${note.name}`);
    const hour = letter === "w" ? Math.floor(ts / HOUR_MS) * HOUR_MS : 0;
    distinct.set(`${letter}\u0000${projectId}\u0000${hour}`, [letter, projectId, hour]);
  }
  const messages: { channel: string; payload: string }[] = [];
  let batch: WireNote[] = [];
  let size = 0;
  const send = () => {
    if (batch.length > 0) messages.push({ channel: CHANNEL, payload: JSON.stringify({ from: nodeId, notes: batch } satisfies Message) });
    batch = [];
    size = 0;
  };
  for (const note of distinct.values()) {
    const length = JSON.stringify(note).length + 1;
    if (size + length > MAX_PAYLOAD - nodeId.length - 32) send();
    batch.push(note);
    size += length;
  }
  send();
  return messages;
}

/** Applies another node's notes to this node's write logs; its own, and anything not a message, are passed over. */
export function applyAnnouncedNotes(payload: string, nodeId: string, source: object): void {
  let message: Message;
  try {
    message = JSON.parse(payload) as Message;
  } catch {
    return;
  }
  if (message.from === nodeId || !Array.isArray(message.notes)) return;
  for (const [letter, projectId, hour] of message.notes) NOTES[letter]?.(source, projectId, hour);
}

/** Hears the other nodes' notes until stopped; after a reconnect every reading is stale (notices may have been lost). */
export async function listenForNotes(storage: Storage, nodeId: string, source: object): Promise<{ stop(): Promise<void> }> {
  if (!storage.listen) throw new Error("write notes travel between nodes on PostgreSQL only");
  let listening = false;
  const listener = await storage.listen(
    CHANNEL,
    (payload) => applyAnnouncedNotes(payload, nodeId, source),
    () => {
      if (listening) noteEverythingChanged(source);
      listening = true;
    },
  );
  hearOtherNodes(source);
  return {
    stop: () => {
      hearOtherNodes(source, false);
      return listener.unlisten();
    },
  };
}
