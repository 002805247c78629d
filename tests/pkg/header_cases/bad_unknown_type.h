#define LLM_API
LLM_API s_undeclared_t s_f(void);
