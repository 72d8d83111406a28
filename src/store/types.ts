/**
 * Where artifacts go. Writes are atomic from a reader's point of view: a key
 * either holds the complete bytes or its previous content, never a part.
 */
export interface StoreObjectInfo {
  readonly size: number;
}

export interface ArtifactStore {
  /** A printable location (file path or s3:// URL). */
  readonly location: string;
  putFile(key: string, sourcePath: string): Promise<void>;
  putBytes(key: string, bytes: Uint8Array): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  stat(key: string): Promise<StoreObjectInfo | undefined>;
  close(): Promise<void>;
}
