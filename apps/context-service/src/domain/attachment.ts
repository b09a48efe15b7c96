/** A screenshot uploaded to a session; its bytes live in object storage under `objectKey`. */
export interface Attachment {
  id: string;
  sessionId: string;
  userId: string;
  objectKey: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  width: number | null;
  height: number | null;
  status: 'pending' | 'processed' | 'failed';
  ocrText: string | null;
  ocrConfidence: number | null;
  createdAt: Date;
  processedAt: Date | null;
}

export type NewAttachment = Pick<
  Attachment,
  'sessionId' | 'userId' | 'objectKey' | 'contentType' | 'sizeBytes' | 'sha256' | 'width' | 'height'
>;
