/**
 * The failing half of a check's result (STYLE.md §2): each check of a message or a copy returns
 * `{ ok: true, … } | Refusal<its codes>` from one function, a stable code and a sentence.
 */
export interface Refusal<Code extends string> {
  ok: false;
  code: Code;
  message: string;
}

export function refusal<Code extends string>(code: Code, message: string): Refusal<Code> {
  return { ok: false, code, message };
}
