"""The LFQ video tokenizer as a real codec: tokens entropy-coded with a learned prior (issue 23)."""
