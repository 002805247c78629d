#define LLM_API
LLM_API int s_f();
