import { BudgetList, BudgetView, type CreateBudgetBody, type UpdateBudgetBody } from '@yoke/protocol';
import { request } from '@/lib/api';
import { parseWire } from '@/lib/wire';

export async function listBudgets(): Promise<BudgetView[]> {
  return parseWire(BudgetList, 'budgets', await request('/org/budgets')).budgets;
}

export async function createBudget(body: CreateBudgetBody): Promise<BudgetView> {
  return parseWire(BudgetView, 'a budget', await request('/org/budgets', { method: 'POST', body }));
}

export async function updateBudget(id: string, body: UpdateBudgetBody): Promise<BudgetView> {
  const path = `/org/budgets/${encodeURIComponent(id)}`;
  return parseWire(BudgetView, 'a budget', await request(path, { method: 'PATCH', body }));
}

export async function deleteBudget(id: string): Promise<void> {
  await request(`/org/budgets/${encodeURIComponent(id)}`, { method: 'DELETE' });
}
