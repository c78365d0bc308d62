import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

/**
 * What an item holds. `simple`: the fields that answer most questions, the empty ones left out (the default when
 * the node runs as an AI agent's tool); `raw`: BMW's answer as it came; `fields`: the fields named in Fields;
 * `flat`: one row of plain columns per entry (charging sessions and settings, for files and sheets).
 */
export type OutputMode = 'simple' | 'raw' | 'fields' | 'flat';

const MODES: readonly OutputMode[] = ['simple', 'raw', 'fields', 'flat'];

/**
 * Whether the node runs as an AI agent's tool (or behind n8n's MCP Server Trigger). n8n 2.x gives a node marked
 * `usableAsTool` a second type, `<name>Tool`, for tool use, and says so through `isToolExecution()` when it runs
 * the node for an agent; an agent that hands the call back to the engine runs the Tool type like any node.
 */
export function runsAsTool(ctx: IExecuteFunctions): boolean {
  const says = (ctx as { isToolExecution?: () => boolean }).isToolExecution;
  if (typeof says === 'function' && says.call(ctx) === true) return true;
  return /Tool$/.test(ctx.getNode().type);
}

/** What one operation's Output offers: the default of a workflow node, and what Simplified keeps. */
export interface OutputSpec {
  /** What a workflow node returns unless told otherwise (what it returned before Output existed). */
  workflowDefault: 'raw' | 'flat';
  /** What Simplified keeps, as the option's description says it. */
  simplified: string;
  /** What Raw is, in the operation's words. */
  raw?: string;
  /** Flat Rows, where the operation has them. */
  flat?: string;
}

/**
 * Output and Fields, entries of the operation's Options. Left out, Output is Simplified when the node runs as a
 * tool and what the node always returned otherwise (a workflow saved before Output existed gets what it got).
 */
export function outputOptions(spec: OutputSpec): INodeProperties[] {
  const normal = spec.workflowDefault === 'flat' ? 'Flat Rows' : 'Raw';
  return [
    {
      displayName: 'Output',
      name: 'output',
      type: 'options',
      options: [
        ...(spec.flat ? [{ name: 'Flat Rows', value: 'flat', description: spec.flat }] : []),
        { name: 'Simplified', value: 'simple', description: spec.simplified },
        { name: 'Raw', value: 'raw', description: spec.raw ?? 'The answer as BMW sends it' },
        { name: 'Selected Fields', value: 'fields', description: 'Only the fields named in Fields' },
      ],
      default: spec.workflowDefault,
      description: `What each item holds. Without this option: Simplified when the node is an AI agent's tool (a small context for the model), else ${normal}.`,
    },
    {
      displayName: 'Fields',
      name: 'fields',
      type: 'string',
      default: '',
      placeholder: spec.flat ? 'e.g. start, energyFromGridKwh, endSoc' : 'e.g. brand, modelName',
      description: `For Output Selected Fields: comma-separated names of the fields to keep${spec.flat ? ' (the columns of Flat Rows)' : ''}; a dot reaches into a nested field (a.b). vin and vehicleName are always kept.`,
      displayOptions: { show: { output: ['fields'] } },
    },
  ];
}

/** The item's Output: as set in Options, else Simplified for a tool and the operation's default for a workflow node. */
export function outputOf(ctx: IExecuteFunctions, itemIndex: number, workflowDefault: OutputMode): OutputMode {
  const fallback: OutputMode = runsAsTool(ctx) ? 'simple' : workflowDefault;
  const value = ((ctx.getNodeParameter('options', itemIndex, {}) ?? {}) as IDataObject).output;
  return MODES.includes(value as OutputMode) ? (value as OutputMode) : fallback;
}

/** The field names of Selected Fields, as typed (comma or new line between them). */
export function fieldsOf(ctx: IExecuteFunctions, itemIndex: number): string[] {
  return String(((ctx.getNodeParameter('options', itemIndex, {}) ?? {}) as IDataObject).fields ?? '')
    .split(/[,\n]/)
    .map((f) => f.trim())
    .filter(Boolean);
}

const ALWAYS_KEPT = ['vin', 'vehicleName'];

/** The named fields of an item (a dot reaches into a nested object, unless the name is a key), always with vin and vehicleName; a field the item lacks is left out. */
export function selectFields(json: IDataObject, fields: readonly string[]): IDataObject {
  const out: IDataObject = {};
  for (const field of [...ALWAYS_KEPT, ...fields]) {
    // A key with dots of its own (a telematic descriptor) is a key; else a dot reaches into a nested field.
    let value: unknown = json[field];
    if (value === undefined) {
      value = json;
      for (const part of field.split('.'))
        value = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as IDataObject)[part] : undefined;
    }
    if (value !== undefined) out[field] = value as IDataObject[string];
  }
  return out;
}

/** A nested answer without its empty parts (null, '', empty objects and lists), for Simplified where no columns are picked. */
export function withoutEmpty(value: unknown): unknown {
  if (Array.isArray(value)) {
    const list = value.map(withoutEmpty).filter((v) => v !== undefined);
    return list.length ? list : undefined;
  }
  if (value !== null && typeof value === 'object') {
    const out: IDataObject = {};
    for (const [key, v] of Object.entries(value)) {
      const kept = withoutEmpty(v);
      if (kept !== undefined) out[key] = kept as IDataObject[string];
    }
    return Object.keys(out).length ? out : undefined;
  }
  return value === null || value === '' ? undefined : value;
}
