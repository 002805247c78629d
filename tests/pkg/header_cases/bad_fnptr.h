#define LLM_API
LLM_API int s_f(int (*cb)(void *user_data), void *user_data);
