"""Lists /app on every act, forever; each list_dir costs a tool call.

Expected termination_reason: tool_calls_exhausted (failure_type budget_exhausted);
for filesystem_hidden_config@1 (40 tool calls) steps_used 40, tool_calls_used 40.
"""


class Agent:
    def reset(self, task):
        pass

    def observe(self, observation):
        pass

    def act(self):
        return {"type": "list_dir", "args": {"path": "/app"}}
