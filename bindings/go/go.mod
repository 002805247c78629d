module github.com/literllm/literllm/bindings/go

go 1.19
