// The redirect's lookup table: every active link by slug, in memory, read before the server listens.
// The link service keeps this node's directory in step at once. Nodes sharing a PostgreSQL database
// (SPEC §11) hear of each other's changes on LINK_CHANGES and read the changed link again.
import type { Storage } from "../db/storage/storage.ts";
import type { AttributionContext } from "../tracking/attribution-context.ts";
import { LINK_SELECT, toLink, type LinkRow, type TrackedLink } from "./rows.ts";

export interface ActiveLink {
  linkId: string;
  projectId: string;
  slug: string;
  destinationUrl: string;
  context: AttributionContext;
}

/** Its payload is the changed link's id: the slug may be what changed. */
const LINK_CHANGES = "bantico_link_changes";
/** Notices lost while the listening connection was down, or a read again that failed, are made good this often. */
const RESYNC_MS = 30_000;
/** Link ids read again in one query, when many changed at once. */
const RELOAD_BATCH = 500;

function toActiveLink(link: TrackedLink): ActiveLink {
  const { linkId, projectId, slug, destinationUrl, campaignId, source, medium, content, leadId } = link;
  return { linkId, projectId, slug, destinationUrl, context: { linkId, campaignId, source, medium, content, leadId } };
}

const CONTEXT_FIELDS = ["campaignId", "source", "medium", "content", "leadId"] as const;

function sameActiveLink(a: ActiveLink, b: ActiveLink): boolean {
  return a.linkId === b.linkId && a.projectId === b.projectId && a.destinationUrl === b.destinationUrl && CONTEXT_FIELDS.every((field) => a.context[field] === b.context[field]);
}

class LinkDirectory {
  readonly bySlug = new Map<string, ActiveLink>();
  private readonly slugById = new Map<string, string>();
  private readonly stale = new Set<string>();
  private resyncDue = false;
  private reading: Promise<void> | null = null;
  /** While a read runs: each link changed on this node meanwhile, newer than what the read may bring back. */
  private readonly changedHere = new Map<string, { order: number; link: TrackedLink | null }>();
  private localChanges = 0;
  /** Until the directory is open, a failed read fails the opening; after, it is told and the next resync tries again. */
  onReadFailure: (error: unknown) => void = (error) => {
    throw error;
  };

  constructor(private readonly storage: Storage) {}

  /** A change committed on this node; `link` null when deleted. */
  changed(linkId: string, link: TrackedLink | null): void {
    if (this.reading) this.changedHere.set(linkId, { order: ++this.localChanges, link });
    this.apply(linkId, link);
  }

  reload(linkId: string): void {
    this.stale.add(linkId);
    this.startReading();
  }

  resync(): void {
    this.resyncDue = true;
    this.startReading();
  }

  /** Resolves once every read asked for so far is applied. */
  async settled(): Promise<void> {
    while (this.reading) await this.reading;
  }

  /** `previous`: where an unchanged link's object is kept from, so the redirect's per-link work (redirect.ts) stays done. */
  private apply(linkId: string, link: TrackedLink | null, previous = this.bySlug): void {
    const kept = link && previous.get(link.slug);
    const slug = this.slugById.get(linkId);
    if (slug !== undefined) {
      this.slugById.delete(linkId);
      // Another link may hold the slug already, when two links swapped slugs and its change came first.
      if (this.bySlug.get(slug)?.linkId === linkId) this.bySlug.delete(slug);
    }
    if (!link || link.archived) return;
    const active = toActiveLink(link);
    this.bySlug.set(link.slug, kept && sameActiveLink(kept, active) ? kept : active);
    this.slugById.set(linkId, link.slug);
  }

  /** One read at a time, each started after the one before was applied: an older read never overwrites a newer one. */
  private startReading(): void {
    this.reading ??= this.readPending()
      .catch((error) => this.onReadFailure(error))
      .finally(() => {
        this.reading = null;
        this.changedHere.clear();
      });
  }

  private async readPending(): Promise<void> {
    while (this.resyncDue || this.stale.size > 0) {
      const since = this.localChanges;
      if (this.resyncDue) {
        this.resyncDue = false;
        // Changes noticed until now are in the full read; those noticed while it runs are read after it.
        this.stale.clear();
        const rows = await this.storage.all<LinkRow>(`${LINK_SELECT} WHERE l.archived = 0`);
        const previous = new Map(this.bySlug);
        this.bySlug.clear();
        this.slugById.clear();
        for (const row of rows) this.apply(row.id, toLink(row), previous);
      } else {
        const ids = [...this.stale].slice(0, RELOAD_BATCH);
        for (const id of ids) this.stale.delete(id);
        const rows = await this.storage.all<LinkRow>(`${LINK_SELECT} WHERE l.id IN (${ids.map(() => "?").join(", ")})`, ids);
        for (const id of ids) this.apply(id, null);
        for (const row of rows) this.apply(row.id, toLink(row));
      }
      for (const [linkId, change] of this.changedHere) if (change.order > since) this.apply(linkId, change.link);
    }
  }
}

const directories = new WeakMap<Storage, LinkDirectory>();

export interface OpenLinkDirectory {
  /** Stops following other nodes' changes; the links read stay in memory. */
  stop(): Promise<void>;
}

/**
 * Reads every active link of `storage` for findActiveLink. On PostgreSQL it then follows every node's
 * changes: each link named on LINK_CHANGES is read again, and everything every `resyncMs` and after a reconnect.
 */
export async function openLinkDirectory(storage: Storage, options: { resyncMs?: number } = {}): Promise<OpenLinkDirectory> {
  const directory = new LinkDirectory(storage);
  let listenedBefore = false;
  // Listening before the first read: a change committed in between is read again rather than missed.
  const subscription = await storage.listen?.(
    LINK_CHANGES,
    (linkId) => directory.reload(linkId),
    () => {
      if (listenedBefore) directory.resync();
      listenedBefore = true;
    },
  );
  try {
    directory.resync();
    await directory.settled();
  } catch (error) {
    await subscription?.unlisten();
    throw error;
  }
  directory.onReadFailure = (error) => console.error("link directory: reading links failed; the next resync tries again:", error);
  directories.set(storage, directory);
  const timer = subscription ? setInterval(() => directory.resync(), options.resyncMs ?? RESYNC_MS) : null;
  return {
    async stop() {
      if (timer) clearInterval(timer);
      await subscription?.unlisten();
      await directory.settled();
    },
  };
}

/** The active link for a slug, from memory: null too where no directory was opened. */
export function findActiveLink(storage: Storage, slug: string): ActiveLink | null {
  return directories.get(storage)?.bySlug.get(slug) ?? null;
}

/**
 * Tells the other nodes sharing the database that a link changed. Call it on the transaction's storage:
 * the notice goes out when the change commits, and not at all when it rolls back.
 */
export async function announceLinkChange(tx: Storage, linkId: string): Promise<void> {
  await tx.notify?.(LINK_CHANGES, linkId);
}

/** This node's directory after a committed change; `link` null when the link was deleted. */
export function rememberLink(storage: Storage, linkId: string, link: TrackedLink | null): void {
  directories.get(storage)?.changed(linkId, link);
}
