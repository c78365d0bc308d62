import { type INode, type JsonObject, NodeApiError, NodeOperationError } from 'n8n-workflow';
import { CarDataError, type LoginError } from '../core/errors';
import { loginFailureIn } from './transport';

/**
 * A refresh that failed inside the credential reaches core as a transport failure; core keeps it as the cause
 * of its error. Found here, it is reported as what it is: the login, with BMW's reason.
 */
function unwrap(error: unknown): { login?: LoginError; carData?: CarDataError } {
  const login = loginFailureIn(error);
  if (login) return { login };
  return { carData: error instanceof CarDataError ? error : undefined };
}

/**
 * An n8n error for anything the node may throw: refused input becomes a NodeOperationError, everything BMW said
 * (with its CU code and a hint) a NodeApiError. Messages come from core and the credential, which never include
 * a token or the client ID.
 */
export function toNodeError(node: INode, error: unknown, itemIndex?: number): NodeApiError | NodeOperationError {
  const { login, carData } = unwrap(error);
  if (login) {
    return new NodeApiError(
      node,
      { message: login.message, code: login.oauthError ?? 'login' },
      { message: login.message, description: login.hint || undefined, itemIndex },
    );
  }
  if (error instanceof NodeOperationError || error instanceof NodeApiError) return error;
  if (carData) {
    if (carData.kind === 'input') return new NodeOperationError(node, carData.message, { itemIndex, description: carData.hint || undefined });
    return new NodeApiError(node, carData.toJSON() as JsonObject, {
      message: carData.message,
      description: carData.hint || undefined,
      httpCode: carData.status ? String(carData.status) : undefined,
      itemIndex,
    });
  }
  return new NodeOperationError(node, error instanceof Error ? error : String(error), { itemIndex });
}

/** What `continueOnFail` puts in the item: BMW's code and hint, so a flow can branch on them. */
export function errorJson(error: unknown): JsonObject {
  const { login, carData } = unwrap(error);
  if (login) return { error: login.message, code: login.oauthError ?? 'login', kind: 'auth', ...(login.hint ? { hint: login.hint } : {}) };
  const out: JsonObject = { error: error instanceof Error ? error.message : String(error) };
  if (carData) {
    out.code = carData.code;
    out.kind = carData.kind;
    if (carData.hint) out.hint = carData.hint;
    if (carData.status) out.status = carData.status;
  } else if (error instanceof NodeApiError || error instanceof NodeOperationError) {
    if (error.description) out.hint = error.description;
  }
  return out;
}
