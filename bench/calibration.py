"""Calibration text for quantization: the model's own writing, in chat and as plain prose.

GPTQ needs inputs that look like what the model will see. Nothing is downloaded: the
model answers the chat prompts below and continues the plain openings (sampled, with a
fixed seed, so a preparation is repeatable). Both kinds are needed: calibrated on chats
alone, GPTQ fitted chat text much better than plain rounding but plain prose worse
(bench/RESULTS.md). None of these texts is in bench/bench_quality.py, which measures
the result.
"""

from __future__ import annotations

from pathlib import Path

PROMPTS = (
    "Draft a short apology to a customer whose subscription was charged twice.",
    "How do I reset my password if I no longer have access to my email?",
    "Write an opening paragraph for a story set in a lighthouse during a storm.",
    "Explain the difference between weather and climate.",
    "What are good questions to ask at the end of a job interview?",
    "Summarise the causes of the First World War for a history class.",
    "Give me a recipe for a simple vegetable soup.",
    "Reply to a colleague who asked to move our meeting to Thursday afternoon.",
    "What is a prime number? Give a few examples.",
    "Describe a sunrise over the mountains in three sentences.",
    "How can a small bakery get more customers in winter?",
    "Write a haiku about autumn leaves.",
    "Explain what a budget is to a teenager getting their first job.",
    "What should I pack for a weekend hiking trip?",
    "Correct the grammar: me and him goes to the shop yesterday and buyed apples.",
    "Write a thank-you note to a teacher at the end of the school year.",
    "Why is the sky blue?",
    "Make this sentence shorter: In the event that you should happen to require any further assistance, do not hesitate to contact us.",
    "List five ways to reduce stress at work.",
    "Explain how a bill becomes a law, in simple terms.",
    "Write a product description for a handmade wooden chopping board.",
    "What is the Pythagorean theorem and when is it used?",
    "Tell a customer politely that the item they want is out of stock until next month.",
    "Give three arguments for and against school uniforms.",
    "Translate into French: Good morning, how are you today?",
    "Write a short speech for a friend's birthday dinner.",
    "How does a refrigerator keep food cold?",
    "Suggest names for a cat that loves to sleep in boxes.",
    "Explain the rules of chess in a few sentences.",
    "Write a reminder email about an unpaid invoice, friendly but firm.",
    "What are the main parts of a cell?",
    "Continue this story: The train stopped in the middle of the forest, and nobody knew why.",
    "How do I write a good cover letter?",
    "Compare cats and dogs as pets.",
    "What happened during the Apollo 11 mission?",
    "Write a to-do list for moving to a new apartment.",
    "Explain compound interest with an example.",
    "Rewrite in a cheerful tone: The office will be closed on Monday.",
    "Give tips for learning a new language as an adult.",
    "Describe the water in a quiet lake at night.",
)

OPENINGS = (
    "The old ferry left the harbour at dawn, and",
    "Dear Ms. Patel,\n\nThank you for your letter of 3 March. I",
    "Chapter One\n\nThe first thing Tom noticed about the new house was",
    "Most people think of bees as",
    "Our quarterly report shows that sales",
    "When I was twelve, my grandmother taught me",
    "The committee met on Tuesday to discuss",
    "Rain had been falling over the valley for three days when",
    "To make good bread at home, you need",
    "The history of the bicycle begins in",
    "She opened the envelope slowly, knowing that",
    "In this essay I will argue that",
    "Hi team,\n\nJust a quick update on the project:",
    "The museum's new exhibition brings together",
    "Volcanoes form where",
    "It was the kind of town where everyone",
    "Minutes of the parent-teacher meeting, 12 October.",
    "Learning to play the piano as an adult",
    "The river was low that summer, and the children",
    "Customer reviews of the hotel mention",
)


def calibration_sequences(
    model_dir: Path, count: int = 64, new_tokens: int = 160, seed: int = 1, quantization: str = "fp32"
) -> list[list[int]]:
    """Token ids of `count` texts, alternately a chat (prompt and answer) and a continued opening."""
    from desktop_app.core.chat import ChatMessage
    from desktop_app.core.generation import GenerationSettings
    from desktop_app.engine import GenerationRequest, load_engine
    from desktop_app.engine.sampling import Sampler

    engine = load_engine(model_dir, provider="cpu", quantization=quantization)
    settings = GenerationSettings(temperature=0.8, top_p=0.95, repetition_penalty=1.1)
    sequences = []
    for index in range(count):
        if index % 2 == 0:
            prompt = PROMPTS[(index // 2) % len(PROMPTS)]
            start = engine.build_prompt(GenerationRequest(messages=(ChatMessage("user", prompt),))).token_ids
        else:
            start = engine.tokenizer.encode(OPENINGS[(index // 2) % len(OPENINGS)])
        sampler = Sampler(settings, seed + index)
        cache = engine.model.empty_cache()
        logits, cache = engine.model.forward(list(start), cache)
        written: list[int] = []
        for _ in range(new_tokens):
            token = sampler(logits, written)
            written.append(token)
            if token in engine.stop_token_ids:
                break
            logits, cache = engine.model.forward([token], cache)
        sequences.append(list(start) + written)
    return sequences
