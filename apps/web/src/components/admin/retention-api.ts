import {
  LegalHoldView,
  RetentionPreview,
  RetentionRunResult,
  RetentionSettingsView,
  type LegalHoldBody,
  type UpdateRetentionBody,
} from '@yoke/protocol';
import { request } from '@/lib/api';
import { parseWire } from '@/lib/wire';

export async function fetchRetention(): Promise<RetentionSettingsView> {
  return parseWire(RetentionSettingsView, 'retention settings', await request('/org/retention'));
}

export async function updateRetention(body: UpdateRetentionBody): Promise<RetentionSettingsView> {
  return parseWire(
    RetentionSettingsView,
    'retention settings',
    await request('/org/retention', { method: 'PUT', body }),
  );
}

export async function fetchRetentionPreview(): Promise<RetentionPreview> {
  return parseWire(RetentionPreview, 'the retention preview', await request('/org/retention/preview'));
}

export async function runRetention(): Promise<RetentionRunResult> {
  return parseWire(RetentionRunResult, 'the retention run', await request('/org/retention/run', { method: 'POST' }));
}

export async function fetchLegalHolds(includeReleased: boolean): Promise<LegalHoldView[]> {
  const path = `/org/legal-holds${includeReleased ? '?all=true' : ''}`;
  return parseWire(LegalHoldView.array(), 'legal holds', await request(path));
}

export async function placeLegalHold(body: LegalHoldBody): Promise<LegalHoldView> {
  return parseWire(LegalHoldView, 'a legal hold', await request('/org/legal-holds', { method: 'POST', body }));
}

export async function releaseLegalHold(id: string): Promise<LegalHoldView> {
  const path = `/org/legal-holds/${encodeURIComponent(id)}`;
  return parseWire(LegalHoldView, 'a legal hold', await request(path, { method: 'DELETE' }));
}
