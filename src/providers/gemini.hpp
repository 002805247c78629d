// Google's Gemini generateContent codec, shared by the gemini provider
// (generativelanguage.googleapis.com) and Gemini models on Vertex AI (the same
// body and answers at another URL, with another credential).
//
// Where the OpenAI shape has no field for what Gemini sends:
//  - thoughtSignature (an opaque blob Gemini wants back on the very part it
//    came with) travels in the assistant message's `thinking_blocks`, one
//    block per signed part: {"type":"gemini_thought_signature","signature":S,
//    "tool_call_id":ID} for a functionCall part, the same without
//    tool_call_id for a text or thought part. An assistant message sent back
//    unchanged carries them back. A signature given the way Google's own
//    OpenAI-compatible endpoint gives it (tool_calls[i].extra_content.google.
//    thought_signature) is read as well.
//  - tool call ids: Gemini's functionCall.id when it gives one, else
//    "call_" + 16 hex digits hashing (responseId, candidate, call index, name,
//    and the arguments, or for a call whose arguments come in pieces the length
//    and end of its thought signature): the same answer gives the same ids,
//    streamed or not.
//    They are not sent to Gemini; a tool result finds its function's name
//    through the id among the earlier assistant tool calls.
//  - arguments in pieces (partialArgs, which Gemini sends when the request's
//    toolConfig.functionCallingConfig asks streamFunctionCallArguments): each
//    piece a value at a JSONPath, in the order the model writes them. They are
//    written as JSON text and streamed as OpenAI streams arguments: the call's
//    first chunk carries its id and name, each later event what it adds.
#pragma once
#include <memory>
#include <string_view>

#include "providers/adapter.hpp"

namespace literllm {

// The generateContent body for a validated OpenAI-shaped request (no model:
// it is in the URL). Throws LLM_ERR_INVALID_ARGUMENT naming a field Gemini
// cannot take.
json::Document gemini_body(json::Document& req, const Target& t);
// A GenerateContentResponse as a chat.completion. Throws LLM_ERR_CONTENT_POLICY
// for a blocked prompt (promptFeedback.blockReason, no candidates).
json::Document gemini_response(std::string_view body, const Target& t);
// The decoder of a streamGenerateContent?alt=sse answer (chat.completion.chunk out).
std::unique_ptr<StreamDecoder> gemini_stream(const Target& t, const Limits& limits);
// The typed error for an HTTP error answer ({"error":{"code","message","status"}}).
Error gemini_http_error(const Target& t, long status, std::string_view body, const http::Headers& headers);

}  // namespace literllm
