"""LLaVA-1.5 on the GPU side of edgecap: captions and per-token attention maps.

caption_attention is the command-line tool, postprocess turns generate() outputs into
edgecap.attention/v1 documents, run_config checks the tool's inputs, run_output fixes the output
layout, and tiny_random builds a small random LLaVA for pipeline tests. Only caption_attention
and tiny_random need torch and transformers, and they import them when they run.
"""
