export { OpenAIAgentsAdapter, type OpenAIAgentsAdapterOptions } from './adapter';
