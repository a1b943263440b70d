"""Benchmark: does quantization keep the model's quality? (q4, q8, fp16 against fp32)

Two measures on SmolLM2-135M-Instruct:
- greedy agreement: on a fixed set of chat prompts, the share of the first 32 generated
  tokens that are the same token at the same position as the fp32 model's;
- perplexity on held-out texts (written for this benchmark, so in no training set: a
  story, a support reply, an explanation for school, business notes, instructions and an
  opinion piece, about 1,200 tokens), computed token by token through the engine's
  KV-cache path.

    python bench/bench_quality.py --write bench/RESULTS.md      (part of make bench)
"""

from __future__ import annotations

import argparse
import math
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_engine import bench_models_dir, machine, publish  # noqa: E402

from desktop_app.core.chat import ChatMessage  # noqa: E402
from desktop_app.core.generation import GenerationSettings  # noqa: E402
from desktop_app.engine import load_engine  # noqa: E402

PROMPTS = [
    "What is the capital of France?",
    "Write a polite reply to a customer whose parcel arrived late.",
    "Explain photosynthesis to a ten-year-old.",
    "Give me three tips for writing a clear email.",
    "Summarise the plot of Romeo and Juliet in two sentences.",
    "How do I convert a fraction to a percentage?",
    "Suggest a title for a blog post about learning to bake bread.",
    "What should a lesson plan on the water cycle include?",
    "Rewrite this more formally: hey, can u send me the report asap?",
    "List the planets of the solar system in order.",
]
HELD_OUT = (
    "The library on Mercer Street opens at nine, but the regulars arrive earlier. Mrs. Okafor brings a thermos "
    "of tea and a crossword folded into quarters; the two students from the college across the road wait with "
    "their laptops balanced on their knees, sharing a charger between them. When the doors finally open, each "
    "goes to the same table as yesterday, as if the chairs remembered them. The librarian, a tall man who speaks "
    "very quietly, has learned their habits. He puts the morning newspapers on the left side of the counter for "
    "Mrs. Okafor, and he leaves the study room unlocked for the students, although the sign says it must be "
    "booked in advance. Nobody has ever complained. In the afternoon the children come, and the building changes "
    "its voice: chairs scrape, someone laughs too loudly, a book about volcanoes is argued over and finally "
    "shared. By six o'clock the tables are empty again, the lights in the reading room hum, and the librarian "
    "walks between the shelves, pushing back the books that have drifted forward, ready for the next morning."
)
MORE_HELD_OUT = (  # added after the first runs: 222 tokens alone proved too few (RESULTS.md)
    # a support reply
    "Hello Daniel,\n\nThank you for getting in touch, and I am sorry that your order arrived with a cracked lid. "
    "That is not the experience we want anyone to have, least of all a customer who has shopped with us for as "
    "long as you have. I have arranged for a replacement to be sent today by tracked delivery, and you should "
    "receive it by Thursday. There is no need to return the damaged jar; please recycle it if you can. I have "
    "also added a note to your account so that our warehouse team packs your future orders with extra padding. "
    "If the replacement does not arrive by the end of the week, reply to this message and I will look into it "
    "myself straight away.\n\nWith best wishes,\nAmira\nCustomer Care",
    # a school explanation
    "Why do we have seasons? Many people believe that summer happens when the Earth is closest to the Sun, but "
    "that is not the reason. The Earth's axis is tilted by about twenty-three degrees, and it keeps pointing in "
    "the same direction as the planet travels around the Sun. For part of the year the northern half leans "
    "towards the Sun: days are longer, the Sun climbs higher in the sky, and its light arrives more directly, so "
    "each square metre of ground receives more energy. Six months later the northern half leans away, and the "
    "southern half has its summer instead. This is why Australia celebrates the new year on the beach while "
    "Canada is covered in snow. Near the equator the change is small, and many places there speak of wet and "
    "dry seasons rather than summer and winter.",
    # a small-business note
    "Notes from the Saturday market. We sold out of the rye loaves by eleven, for the third week running, so we "
    "should bake at least twenty more next time. The cinnamon buns did well early but slowed after lunch; "
    "perhaps we could offer them at a lower price in the last hour instead of taking them home. Two customers "
    "asked whether we make anything without gluten. It would mean cleaning the mixer thoroughly and baking on a "
    "separate day, which is a lot of work, but it might be worth a trial in the spring. The new card reader was "
    "much faster than the old one, and almost nobody paid with cash. Remember to order more paper bags: we used "
    "the last box today.",
    # a story
    "Every evening at half past six, the man in the blue coat fed the pigeons on the bench by the fountain. He "
    "never spoke to anyone, and nobody knew his name. The children who played nearby called him the Admiral, "
    "because of the coat and the way he stood with his hands behind his back. One wet November evening the bench "
    "was empty. The pigeons waited, walking in small circles on the stones, and the children noticed that "
    "something was wrong. The next evening he was still not there, nor the evening after that. On the fourth day "
    "a girl called Rosa brought a paper bag of breadcrumbs from home, sat down on the bench, and scattered them "
    "the way she had seen him do it, slowly, in a wide arc. A week later a letter arrived at the school, "
    "addressed to the girl who feeds my birds.",
    # an instruction
    "Before you paint a room, move the furniture to the centre and cover it with old sheets. Wash the walls with "
    "warm soapy water and let them dry completely; paint does not stick well to dust or grease. Fill any small "
    "holes with filler, sand the patches smooth once they are hard, and wipe away the powder. Use masking tape "
    "along the skirting boards, the window frames and the edge of the ceiling. Stir the paint well, and start "
    "with the edges, using a narrow brush, before you fill in the large areas with a roller. Work from top to "
    "bottom, and keep a wet edge so that the strokes blend together. Most colours need two coats, with a few "
    "hours in between. Remove the tape while the second coat is still slightly soft, pulling it away at an angle.",
    # an opinion piece
    "Our town is about to decide whether to close the small library branch on Hill Road, and I would ask the "
    "council to think again. The savings are real but modest, and the costs are harder to see. The branch is "
    "where older residents without the internet come to renew their bus passes and read the local paper. It is "
    "where parents bring toddlers for the Tuesday song hour, and where teenagers from crowded flats find a quiet "
    "table to do their homework. The main library is two bus rides away for many of them. If the building is too "
    "expensive to heat, there are cheaper solutions: shorter opening hours in winter, volunteers at the desk, or "
    "sharing the space with the health visitors who are looking for a room. Once a library closes, it almost "
    "never opens again.",
)
HELD_OUT_TEXTS = (HELD_OUT, *MORE_HELD_OUT)
NEW_TOKENS = 32


def greedy_tokens(engine, prompt: str) -> list[int]:  # type: ignore[no-untyped-def]
    from desktop_app.engine import GenerationRequest

    plan = engine.build_prompt(GenerationRequest(messages=(ChatMessage("user", prompt),)))
    settings = GenerationSettings(temperature=0.0, repetition_penalty=1.0)
    from desktop_app.engine.sampling import Sampler

    sampler = Sampler(settings, 0)
    cache = engine.model.empty_cache()
    logits, cache = engine.model.forward(plan.token_ids, cache)
    out: list[int] = []
    for _ in range(NEW_TOKENS):  # stop tokens ignored: always 32 positions to compare
        token = sampler(logits, out)
        out.append(token)
        logits, cache = engine.model.forward([token], cache)
    return out


def perplexity(engine) -> float:  # type: ignore[no-untyped-def]
    """Per-token perplexity over all the held-out texts, each read from an empty cache."""
    nll, count = 0.0, 0
    for text in HELD_OUT_TEXTS:
        ids = engine.tokenizer.encode(text)
        cache = engine.model.empty_cache()
        logits, cache = engine.model.forward(ids[:1], cache)
        for token in ids[1:]:
            shifted = logits.astype(np.float64) - logits.max()
            nll -= shifted[token] - math.log(np.exp(shifted).sum())
            logits, cache = engine.model.forward([token], cache)
        count += len(ids) - 1
    return math.exp(nll / count)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    model_dir = bench_models_dir()
    engines = {
        q: load_engine(model_dir, provider="cpu", quantization=q, threads=2) for q in ("fp32", "fp16", "q8", "q4")
    }
    reference = {p: greedy_tokens(engines["fp32"], p) for p in PROMPTS}
    reference_ppl = perplexity(engines["fp32"])
    rows = []
    for name, engine in engines.items():
        agreement = np.mean([np.mean(np.array(greedy_tokens(engine, p)) == np.array(reference[p])) for p in PROMPTS])
        ppl = reference_ppl if name == "fp32" else perplexity(engine)
        rows.append((name, agreement, ppl, (ppl / reference_ppl - 1) * 100))
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    tokens = sum(len(engines["fp32"].tokenizer.encode(text)) for text in HELD_OUT_TEXTS)
    lines = [
        f"\n## Quality, run of {stamp}\n",
        f"Machine: {machine()}. Greedy agreement with fp32 over the first {NEW_TOKENS} tokens of "
        f"{len(PROMPTS)} chat prompts; perplexity on {len(HELD_OUT_TEXTS)} held-out texts ({tokens} tokens: "
        "a story, a support reply, a school explanation, market notes, instructions, an opinion piece). "
        "Targets: agreement of at least 90%, or perplexity up by less than 5%.\n",
        "| variant | greedy agreement with fp32 | perplexity | change |",
        "|---|---:|---:|---:|",
        *[f"| {n} | {a * 100:.1f}% | {p:.2f} | {d:+.1f}% |" for n, a, p, d in rows],
        "",
    ]
    report = "\n".join(lines)
    publish(report, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
