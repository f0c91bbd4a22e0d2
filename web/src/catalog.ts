// The providers of keygate's catalog (internal/provider/catalog.json), grouped
// as the API keys page shows them. The API has no catalog endpoint yet; when
// a provider is added to the catalog, add its row here too.

export interface ProviderInfo {
  name: string;
  display: string;
  kind: "llm" | "search" | "voice";
}

export const PROVIDERS: ProviderInfo[] = [
  { name: "openai", display: "OpenAI", kind: "llm" },
  { name: "anthropic", display: "Anthropic", kind: "llm" },
  { name: "google", display: "Google Gemini", kind: "llm" },
  { name: "mistral", display: "Mistral AI", kind: "llm" },
  { name: "openrouter", display: "OpenRouter", kind: "llm" },
  { name: "groq", display: "Groq", kind: "llm" },
  { name: "exa", display: "Exa", kind: "search" },
  { name: "deepgram", display: "Deepgram", kind: "voice" },
  { name: "elevenlabs", display: "ElevenLabs", kind: "voice" },
];

export const KINDS: { kind: ProviderInfo["kind"]; title: string }[] = [
  { kind: "llm", title: "Language models" },
  { kind: "search", title: "Search" },
  { kind: "voice", title: "Voice" },
];

/** displayName returns the provider's display name, or its catalog name. */
export function displayName(name: string): string {
  return PROVIDERS.find((p) => p.name === name)?.display ?? name;
}
