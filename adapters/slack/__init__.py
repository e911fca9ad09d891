"""The Slack adapter: slack-bolt in, Block Kit out. Socket Mode or HTTP."""
