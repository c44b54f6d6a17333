import { hostMain } from '../host/host-process';
import { OpenAIAgentsLoop } from './agent-loop';

/** The agent process of the `openai-agents` harness: one OpenAI Agents SDK loop, driven over `yoke/ipc`. */
if (require.main === module) hostMain((ctx) => OpenAIAgentsLoop.start(ctx));
