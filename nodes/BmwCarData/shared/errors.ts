import { type INode, type JsonObject, NodeApiError, NodeOperationError } from 'n8n-workflow';
import { CarDataError } from '../../../src/core/errors';
import { loginFailureIn } from './transport';

/**
 * An n8n error for anything the node may throw: refused input becomes a NodeOperationError, everything BMW said
 * (with its CU code and a hint) a NodeApiError. Messages come from core and the credential, which never include
 * a token or the client ID.
 */
export function toNodeError(node: INode, error: unknown, itemIndex?: number): NodeApiError | NodeOperationError {
  if (error instanceof NodeOperationError || error instanceof NodeApiError) {
    const login = error instanceof NodeApiError ? loginFailureIn(error) : undefined;
    if (!login) return error;
    error = login;
  }
  if (error instanceof CarDataError) {
    if (error.kind === 'input') return new NodeOperationError(node, error.message, { itemIndex, description: error.hint || undefined });
    return new NodeApiError(node, error.toJSON() as JsonObject, {
      message: error.message,
      description: error.hint || undefined,
      httpCode: error.status ? String(error.status) : undefined,
      itemIndex,
    });
  }
  const login = loginFailureIn(error);
  if (login) return new NodeApiError(node, { message: login.message, code: login.oauthError ?? 'login' }, { message: login.message, itemIndex });
  return new NodeOperationError(node, error instanceof Error ? error : String(error), { itemIndex });
}

/** What `continueOnFail` puts in the item: BMW's code and hint, so a flow can branch on them. */
export function errorJson(error: unknown): JsonObject {
  const found = error instanceof CarDataError ? error : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const out: JsonObject = { error: message };
  if (found) {
    out.code = found.code;
    out.kind = found.kind;
    if (found.hint) out.hint = found.hint;
    if (found.status) out.status = found.status;
  } else if (error instanceof NodeApiError || error instanceof NodeOperationError) {
    if (error.description) out.hint = error.description;
    if (error instanceof NodeApiError && error.httpCode) out.status = Number(error.httpCode) || error.httpCode;
  }
  return out;
}
