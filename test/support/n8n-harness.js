'use strict';
// Runs our n8n nodes through n8n's own execution code (n8n-core WorkflowExecute, request helpers, credential
// pipeline, RoutingNode for credential tests, PollContext for the trigger). Only the credential store is ours:
// an in-memory ICredentialsHelper that follows n8n's preAuthentication rules (call it when the expirable field
// is empty, after a 401, or in a credential test; persist what it returns when that includes the expirable field).
const fs = require('fs');
const os = require('os');
const path = require('path');

const userFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-harness-'));
process.env.N8N_USER_FOLDER = userFolder;
process.env.N8N_DIAGNOSTICS_ENABLED = 'false';
process.env.N8N_ENCRYPTION_KEY = process.env.N8N_ENCRYPTION_KEY || 'harness-only-key';

const { WorkflowExecute, ExecutionLifecycleHooks, ExecuteContext, RoutingNode, PollContext } = require('n8n-core');
const { Workflow, ICredentialsHelper, createRunExecutionData, NodeHelpers } = require('n8n-workflow');
const lodashGet = (obj, key) => key.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);

const { code } = require('./code');
const { BmwCarData } = code('nodes/BmwCarData/BmwCarData.node.js');
const { BmwCarDataTrigger } = code('nodes/BmwCarDataTrigger/BmwCarDataTrigger.node.js');
const { BmwCarDataApi } = code('credentials/BmwCarDataApi.credentials.js');

const CREDENTIAL = { id: 'cred-1', name: 'BMW CarData account' };
const credentialType = new BmwCarDataApi();

class MemoryCredentialsHelper extends ICredentialsHelper {
  constructor(data) {
    super();
    this.data = { ...data };
    this.updates = 0;
    this.preAuthCalls = 0;
  }
  getParentTypes() {
    return [];
  }
  isCredentialUsableByNode() {
    return true;
  }
  async authenticate(credentials, typeName, requestOptions, workflow, node) {
    const auth = credentialType.authenticate;
    if (typeof auth === 'function') return await auth(credentials, requestOptions);
    requestOptions.headers = requestOptions.headers || {};
    for (const [key, value] of Object.entries(auth.properties.headers)) {
      requestOptions.headers[key] = workflow.expression.getSimpleParameterValue(node, value, 'internal', { $credentials: credentials }, undefined, '');
    }
    return requestOptions;
  }
  async preAuthentication(helpers, credentials, typeName, node, credentialsExpired) {
    const expirable = credentialType.properties.find((p) => p.type === 'hidden' && p.typeOptions && p.typeOptions.expirable);
    const testing = node && node.parameters && node.parameters.temp === '' && node.type === 'n8n-nodes-base.noOp';
    if (!(credentials[expirable.name] === '' || credentialsExpired || testing)) return undefined;
    this.preAuthCalls += 1;
    const output = await credentialType.preAuthentication.call({ helpers: { httpRequest: helpers.helpers.httpRequest } }, credentials);
    if (output[expirable.name] === undefined) return undefined;
    if (node.credentials) await this.updateCredentials(node.credentials[typeName], typeName, { ...this.data, ...output });
    return Object.assign(credentials, output);
  }
  async runPreAuthentication() {
    return undefined;
  }
  async getCredentials() {
    throw new Error('not used');
  }
  async getDecrypted() {
    const defaults = NodeHelpers.getNodeParameters(credentialType.properties, this.data, true, false, null, null) || {};
    return { ...defaults, ...this.data };
  }
  async updateCredentials(nodeCredentials, type, data) {
    this.updates += 1;
    this.data = { ...data };
  }
  async updateCredentialsOauthTokenData() {}
  getCredentialsProperties() {
    return credentialType.properties;
  }
}

const nodeTypes = {
  types: { bmwCarData: new BmwCarData(), bmwCarDataTrigger: new BmwCarDataTrigger() },
  getByName(name) {
    return this.types[name.replace(/^.*\./, '')];
  },
  getByNameAndVersion(name, version) {
    return NodeHelpers.getVersionedNodeType(this.getByName(name), version);
  },
  getKnownTypes() {
    return {};
  },
};

function additionalData(credentialsHelper) {
  return {
    credentialsHelper,
    executeWorkflow: async () => {
      throw new Error('not used');
    },
    getRunExecutionData: async () => undefined,
    getRuntimeCredential: async () => undefined,
    currentNodeExecutionIndex: 0,
    restApiUrl: 'http://127.0.0.1:5678/rest',
    instanceBaseUrl: 'http://127.0.0.1:5678/',
    formBaseUrl: 'http://127.0.0.1:5678/form',
    formWaitingBaseUrl: 'http://127.0.0.1:5678/form-waiting',
    formTestBaseUrl: 'http://127.0.0.1:5678/form-test',
    webhookBaseUrl: 'http://127.0.0.1:5678/webhook',
    webhookWaitingBaseUrl: 'http://127.0.0.1:5678/webhook-waiting',
    webhookTestBaseUrl: 'http://127.0.0.1:5678/webhook-test',
    mcpBaseUrl: 'http://127.0.0.1:5678/mcp',
    mcpTestBaseUrl: 'http://127.0.0.1:5678/mcp-test',
    variables: {},
    logAiEvent: () => {},
    startRunnerTask: async () => {
      throw new Error('not used');
    },
  };
}

function nodeOf(type, parameters, extra = {}) {
  return {
    id: `node-${type}`,
    name: type === 'bmwCarDataTrigger' ? 'BMW CarData Trigger' : 'BMW CarData',
    type: `CUSTOM.${type}`,
    typeVersion: 1,
    position: [0, 0],
    parameters,
    credentials: { bmwCarDataApi: CREDENTIAL },
    ...extra,
  };
}

/**
 * A workflow of one BMW CarData node fed with `items`; runs it and returns the node's output or its error. `mode` is
 * n8n's execution mode: 'manual' (the editor's Execute buttons, the default here) or 'trigger' (started by a trigger
 * or a schedule).
 */
async function runNode(credentials, parameters, { items = [{ json: {} }], staticData = {}, nodeExtra = {}, mode = 'manual' } = {}) {
  const node = nodeOf('bmwCarData', parameters, nodeExtra);
  const workflow = new Workflow({ id: 'wf-1', name: 'test', nodes: [node], connections: {}, active: false, nodeTypes, staticData });
  const data = additionalData(credentials);
  data.hooks = new ExecutionLifecycleHooks(mode, 'exec-1', { id: 'wf-1', name: 'test', nodes: [node], connections: {}, active: false, settings: {} });
  const runData = createRunExecutionData({
    executionData: { nodeExecutionStack: [{ node, data: { main: [items] }, source: null }] },
  });
  const run = await new WorkflowExecute(data, mode, runData).processRunExecutionData(workflow);
  const task = run.data.resultData.runData[node.name][0];
  return {
    run,
    error: run.data.resultData.error || task.error,
    items: task.data ? task.data.main[0] : [],
    staticData: workflow.staticData,
  };
}

/**
 * The tool type n8n makes of a node marked usableAsTool (at load, in the n8n package, which the harness does not
 * install): the same node named <name>Tool, with no main input and an ai_tool output.
 */
function toolTypeOf(nodeType) {
  const description = {
    ...nodeType.description,
    name: `${nodeType.description.name}Tool`,
    displayName: `${nodeType.description.displayName} Tool`,
    inputs: [],
    outputs: ['ai_tool'],
  };
  delete description.usableAsTool;
  return { description, methods: nodeType.methods, execute: nodeType.execute };
}
nodeTypes.types.bmwCarDataTool = toolTypeOf(nodeTypes.types.bmwCarData);

/**
 * A parent that calls its one tool as an AI agent does: n8n-core wraps the tool node (createNodeAsTool, its schema
 * from the $fromAI() of the node's parameters), the agent invokes it with `args`, and n8n runs the node's execute()
 * in a SupplyDataContext for ai_tool. Its one item: the tool's name, description and argument names, and the
 * answer as the agent reads it (the JSON text n8n hands over, parsed).
 */
function agentType(args) {
  return {
    description: {
      name: 'agent',
      displayName: 'Agent',
      version: 1,
      defaults: {},
      inputs: ['main', { type: 'ai_tool', displayName: 'Tools' }],
      outputs: ['main'],
      properties: [],
    },
    async execute() {
      const [tool] = await this.getInputConnectionData('ai_tool', 0);
      const text = await tool.invoke(args);
      let answer;
      try {
        answer = JSON.parse(text);
      } catch {
        answer = text;
      }
      return [[{ json: { name: tool.name, description: tool.description, arguments: Object.keys(tool.schema.shape || {}), text, answer } }]];
    },
  };
}

/**
 * The BMW CarData node as an agent's tool (type bmwCarDataTool, named `name`) with `parameters`, called once with
 * `args`. Returns what the agent got (name, description, arguments, text, answer) or the error.
 */
async function runTool(credentials, parameters, { args = {}, name = 'BMW CarData Tool' } = {}) {
  const tool = { ...nodeOf('bmwCarDataTool', parameters), name };
  const agent = { id: 'node-agent', name: 'Agent', type: 'CUSTOM.agent', typeVersion: 1, position: [200, 0], parameters: {} };
  const types = { ...nodeTypes, types: { ...nodeTypes.types, agent: agentType(args) } };
  const connections = { [name]: { ai_tool: [[{ node: 'Agent', type: 'ai_tool', index: 0 }]] } };
  const workflow = new Workflow({ id: 'wf-3', name: 'tool', nodes: [agent, tool], connections, active: false, nodeTypes: types });
  const data = additionalData(credentials);
  data.hooks = new ExecutionLifecycleHooks('manual', 'exec-3', { id: 'wf-3', name: 'tool', nodes: [agent, tool], connections, active: false, settings: {} });
  const runData = createRunExecutionData({ executionData: { nodeExecutionStack: [{ node: agent, data: { main: [[{ json: {} }]] }, source: null }] } });
  const run = await new WorkflowExecute(data, 'manual', runData).processRunExecutionData(workflow);
  const task = run.data.resultData.runData.Agent[0];
  return {
    run,
    error: run.data.resultData.error || task.error,
    agent: task.data ? task.data.main[0][0].json : undefined,
    parameters: workflow.getNode(name).parameters,
  };
}

/**
 * One poll of the trigger through n8n's PollContext; `mode` 'manual' is the editor's "Fetch Test Event". `timezone`
 * is the workflow's time zone setting (n8n's default otherwise). `staticData` is updated in place, as n8n keeps it.
 */
async function poll(credentials, parameters, { staticData = {}, mode = 'trigger', timezone } = {}) {
  const node = nodeOf('bmwCarDataTrigger', parameters);
  const settings = timezone ? { timezone } : {};
  // A plain copy, as n8n keeps it: the static data of the poll before comes wrapped in n8n's change tracking.
  const data = JSON.parse(JSON.stringify(staticData));
  const workflow = new Workflow({ id: 'wf-2', name: 'trigger', nodes: [node], connections: {}, active: true, nodeTypes, staticData: data, settings });
  const ctx = new PollContext(workflow, node, additionalData(credentials), mode, 'activate');
  try {
    const result = await nodeTypes.types.bmwCarDataTrigger.poll.call(ctx);
    return { result, staticData: workflow.staticData };
  } finally {
    // An active workflow keeps its static data in memory from one poll to the next, also after a poll that failed:
    // the object passed in holds what the poll left.
    const left = JSON.parse(JSON.stringify(workflow.staticData));
    for (const key of Object.keys(staticData)) delete staticData[key];
    Object.assign(staticData, left);
  }
}

/** The context an action node's execute() gets; `abortSignal` is the execution's cancel signal. */
function executeContext(credentials, { abortSignal } = {}) {
  const node = nodeOf('bmwCarData', {});
  const workflow = new Workflow({ id: 'wf-1', name: 'test', nodes: [node], connections: {}, active: false, nodeTypes });
  const runExecutionData = createRunExecutionData({ executionData: { nodeExecutionStack: [] } });
  const inputData = { main: [[{ json: {} }]] };
  return new ExecuteContext(
    workflow,
    node,
    additionalData(credentials),
    'manual',
    runExecutionData,
    0,
    [],
    inputData,
    { node, data: inputData, source: null },
    [],
    abortSignal,
  );
}

/** The credential test as n8n's CredentialsTester runs it: RoutingNode on a temp noOp node, then the rules. */
async function testCredential(credentials) {
  const test = credentialType.test;
  const node = {
    id: 'temp',
    parameters: {},
    name: 'Temp-Node',
    type: 'n8n-nodes-base.noOp',
    typeVersion: 1,
    position: [0, 0],
    credentials: { bmwCarDataApi: CREDENTIAL },
  };
  const nodeType = {
    description: {
      name: 'n8n-nodes-base.noOp',
      displayName: 'Temp',
      version: 1,
      defaults: {},
      inputs: ['main'],
      outputs: ['main'],
      credentials: [{ name: 'bmwCarDataApi', required: true }],
      properties: [{ displayName: 'Temp', name: 'temp', type: 'string', routing: { request: test.request }, default: '' }],
    },
  };
  const types = { getByName: () => nodeType, getByNameAndVersion: () => nodeType, getKnownTypes: () => ({}) };
  const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes: types });
  const data = additionalData(credentials);
  const ctx = new ExecuteContext(
    workflow,
    node,
    data,
    'internal',
    { resultData: { runData: {} } },
    0,
    [],
    { main: [[{ json: {} }]] },
    { node, data: {}, source: null },
    [],
  );
  const decrypted = { id: CREDENTIAL.id, name: CREDENTIAL.name, type: 'bmwCarDataApi', data: await credentials.getDecrypted() };
  let response;
  try {
    response = await new RoutingNode(ctx, nodeType, decrypted).runNode();
  } catch (error) {
    if (error.cause && error.cause.response) {
      const status = error.cause.response.status;
      for (const rule of test.rules || [])
        if (rule.type === 'responseCode' && rule.properties.value === status) return { status: 'Error', message: rule.properties.message };
      return { status: 'Error', message: error.cause.response.statusText || `Received HTTP status code: ${status}` };
    }
    if (error.cause && error.cause.code) return { status: 'Error', message: error.cause.code };
    return { status: 'Error', message: String(error.message) };
  }
  for (const rule of test.rules || []) {
    if (rule.type === 'responseSuccessBody' && lodashGet(response[0][0].json, rule.properties.key) === rule.properties.value) {
      return { status: 'Error', message: rule.properties.message };
    }
  }
  return { status: 'OK', message: 'Connection successful!' };
}

/** Credential data for an account authorized at the simulator. */
let accounts = 0;
/**
 * Credential data for an account authorized at the simulator. The quota ledger is shared by the whole process
 * (as in n8n), so each test gets its own ledger key unless it asks for the real GCID.
 */
function authorizedCredentials(sim, extra = {}) {
  const t = sim.issueTokens({ clientId: 'sim-client-id', ...(extra.scope ? { scope: extra.scope } : {}) });
  accounts += 1;
  return new MemoryCredentialsHelper({
    clientId: 'sim-client-id',
    apiBaseUrl: sim.apiBaseUrl,
    authBaseUrl: sim.authBaseUrl,
    accessToken: t.access_token,
    refreshToken: t.refresh_token,
    gcid: `${t.gcid}-${accounts}`,
    ...extra,
  });
}

/**
 * Mocha hooks for a describe block on one simulator: started before its tests (`options` for startSimulator, and
 * `set` given it), its log and quota count cleared before each test, closed with the harness's files after.
 */
function useSimulator(options, set) {
  const { startSimulator } = code('src/simulator');
  let sim;
  before(async () => {
    sim = await startSimulator({ port: 0, pollIntervalSec: 0, ...options });
    set(sim);
  });
  after(async () => {
    await sim.close();
    cleanup();
  });
  beforeEach(() => {
    sim.clearLog();
    sim.setQuotaUsed(0);
  });
}

function cleanup() {
  fs.rmSync(userFolder, { recursive: true, force: true });
}

module.exports = {
  MemoryCredentialsHelper,
  runNode,
  runTool,
  poll,
  executeContext,
  testCredential,
  authorizedCredentials,
  cleanup,
  useSimulator,
  CREDENTIAL,
  additionalData,
  nodeOf,
  nodeTypes,
};
