import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, disconnect, startHarness, type GatewayHarness } from './gateway-harness';
import { modernAnswer, modernRequest } from './modern-request';

// A handler's asks (ctx.ask / elicit / sample / listRoots) in both eras, over real HTTP: on the
// stateless 2026-07-28 wire an InputRequiredResult whose sealed requestState comes back with the
// retry; on a 2025 session a real request on the session. And the attacker's side of the state.

const CAPABILITIES = { elicitation: {}, sampling: {}, roots: {} };

interface Answer {
  status: number;
  body: { id?: unknown; result?: Record<string, any>; error?: { code: number; message: string; data?: unknown } };
}

describe('client input (elicitation, sampling, roots) in both eras', () => {
  let h: GatewayHarness;
  let token: string;
  let sameTenantToken: string;
  let otherTenantToken: string;

  /** One modern tools/call on the conformance plugin's endpoint. */
  async function call(tenant: string, name: string, extra: Record<string, unknown> = {}, options: { token?: string; capabilities?: object } = {}): Promise<Answer> {
    const response = await modernRequest(h.gateway.url, `/t/${tenant}/p/conformance/mcp`, options.token ?? token, 'tools/call', { name, arguments: {}, ...extra }, {
      id: 7,
      capabilities: (options.capabilities ?? CAPABILITIES) as Record<string, unknown>,
    });
    return { status: response.status, body: await modernAnswer(response) };
  }

  const accept = (content: Record<string, unknown>) => ({ action: 'accept', content });

  beforeAll(async () => {
    h = await startHarness('gw_modern_input');
    const acme = await h.createTenant('acme');
    await h.install(acme.id, 'conformance');
    token = (await h.issueKey(acme.id)).token;
    sameTenantToken = (await h.issueKey(acme.id)).token;
    const globex = await h.createTenant('globex');
    await h.install(globex.id, 'conformance');
    otherTenantToken = (await h.issueKey(globex.id)).token;
  });

  afterAll(async () => {
    await h.close();
  });

  describe('2026-07-28: InputRequiredResult and the retry', () => {
    it('takes a request through two rounds of questions to its result, each retry with the newest state', async () => {
      const first = await call('acme', 'test_input_required_result_multi_round');
      expect(first.status).toBe(200);
      expect(first.body.result).toMatchObject({
        resultType: 'input_required',
        inputRequests: { step1: { method: 'elicitation/create', params: { message: 'Step 1: What is your name?' } } },
        requestState: expect.any(String),
      });
      const second = await call('acme', 'test_input_required_result_multi_round', {
        requestState: first.body.result!['requestState'],
        inputResponses: { step1: accept({ name: 'Ada' }) },
      });
      expect(second.body.result).toMatchObject({ resultType: 'input_required', inputRequests: { step2: { method: 'elicitation/create' } } });
      const done = await call('acme', 'test_input_required_result_multi_round', {
        requestState: second.body.result!['requestState'],
        inputResponses: { step2: accept({ color: 'teal' }) },
      });
      expect(done.body.result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'Ada likes teal' }] });
    });

    it('asks for sampling, elicitation and roots at once, and only for what the client declared', async () => {
      const all = await call('acme', 'test_input_required_result_multiple_inputs');
      expect(Object.keys(all.body.result!['inputRequests']).sort()).toEqual(['client_roots', 'greeting', 'user_name']);
      const samplingOnly = await call('acme', 'test_input_required_result_capabilities', {}, { capabilities: { sampling: {} } });
      expect(Object.keys(samplingOnly.body.result!['inputRequests'])).toEqual(['question']);
      // A handler that needs what was not declared: 400 -32021 naming it, never a request the client cannot serve.
      const undeclared = await call('acme', 'test_missing_capability', {}, { capabilities: {} });
      expect(undeclared).toMatchObject({ status: 400, body: { error: { code: -32021, data: { requiredCapabilities: { sampling: {} } } } } });
    });

    describe('the attacker’s side of requestState', () => {
      let requestState: string;
      const answers = { confirm: accept({ ok: true }) };

      beforeAll(async () => {
        requestState = (await call('acme', 'test_input_required_result_tampered_state')).body.result!['requestState'];
      });

      it('completes for the principal it was issued to', async () => {
        const done = await call('acme', 'test_input_required_result_tampered_state', { requestState, inputResponses: answers });
        expect(done.body.result).toMatchObject({ resultType: 'complete', content: [{ text: 'confirmed' }] });
      });

      it('refuses it modified, with -32602 and no result', async () => {
        const at = requestState.length - 5;
        const flipped = `${requestState.slice(0, at)}${requestState[at] === 'A' ? 'B' : 'A'}${requestState.slice(at + 1)}`;
        for (const state of [flipped, `${requestState}-TAMPERED`, requestState.split('.').slice(0, 4).join('.')]) {
          const answer = await call('acme', 'test_input_required_result_tampered_state', { requestState: state, inputResponses: answers });
          expect(answer.body.error?.code).toBe(-32602);
          expect(answer.body.result).toBeUndefined();
        }
      });

      it('refuses it replayed with another key of the same tenant, or by another tenant', async () => {
        for (const [tenant, other] of [
          ['acme', sameTenantToken],
          ['globex', otherTenantToken],
        ] as const) {
          const answer = await call(tenant, 'test_input_required_result_tampered_state', { requestState, inputResponses: answers }, { token: other });
          expect(answer.body).toMatchObject({ error: { code: -32602, message: expect.stringContaining('params.requestState is not valid for this request') } });
        }
      });

      it('refuses it for another tool or other arguments than the request it was issued for', async () => {
        const answer = await call('acme', 'test_input_required_result_request_state', { requestState, inputResponses: answers });
        expect(answer.body.error?.code).toBe(-32602);
      });
    });
  });

  describe('2025-11-25 sessions: the same handlers ask with real requests on the session', () => {
    it('answers a tool’s three asks with the client’s handlers, then completes', async () => {
      const client = await connectClient(h.gateway.url, '/t/acme/p/conformance', token, 'streamable-http', CAPABILITIES);
      try {
        const asked: string[] = [];
        client.setRequestHandler(ElicitRequestSchema, async (request) => {
          asked.push(request.method);
          return { action: 'accept', content: request.params.message.includes('context') ? { context: 'tests' } : { name: 'Grace' } };
        });
        client.setRequestHandler(CreateMessageRequestSchema, async (request) => (
          asked.push(request.method), { role: 'assistant', content: { type: 'text', text: 'Hello there' }, model: 'test-model' }
        ));
        client.setRequestHandler(ListRootsRequestSchema, async (request) => (asked.push(request.method), { roots: [{ uri: 'file:///work' }] }));
        const result = await client.callTool({ name: 'test_input_required_result_multiple_inputs', arguments: {} });
        expect(result.content).toEqual([{ type: 'text', text: 'Name: Grace; greeting: Hello there; roots: 1' }]);
        expect(asked.sort()).toEqual(['elicitation/create', 'roots/list', 'sampling/createMessage']);
        // A prompt asks too: prompts/get may elicit on a session as well.
        const prompt = await client.getPrompt({ name: 'test_input_required_result_prompt' });
        expect(prompt.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Use this context: tests' } }]);
      } finally {
        await disconnect(client);
      }
    });

    it('gives a client that did not declare roots an error result, and sends it no request', async () => {
      const client = await connectClient(h.gateway.url, '/t/acme/p/conformance', token, 'streamable-http', { elicitation: {} });
      try {
        const result = await client.callTool({ name: 'test_input_required_result_list_roots', arguments: {} });
        expect(result).toMatchObject({ isError: true, content: [{ type: 'text', text: 'The client does not support roots' }] });
      } finally {
        await disconnect(client);
      }
    });
  });
});
