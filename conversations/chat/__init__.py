"""The chat: the answer pipeline (retrieval, coverage, prompt, streamed model, citations),
the offline model, phases, the chat's database units, its limits and thread pools, custom
answers and visitors' feedback. Depends on nothing else of conversations but its models."""
