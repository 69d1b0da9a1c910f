"""Reference computations the tests check the package against; not part of the package.

Each is written independently of the code it checks (no shared helper), so that the two agreeing
means something.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from meaningmaps.data.rating_matrix import RatingLayer
from meaningmaps.maps.patch_grid import PatchGrid


def patch_means(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean rating and rating count per patch (what a label per patch is made from)."""
    g = frame.groupby(["scale", "k"])["rating"]
    return pd.DataFrame({"mean_rating": g.mean(), "n_ratings": g.size()}).reset_index()


def rebuilds_exactly(frame: pd.DataFrame, layers: dict[str, RatingLayer], grid: PatchGrid) -> bool:
    """True if the per-patch lists rebuild every pixel's rating multiset of the matrix's layers.

    Independent of the solver: it histograms each patch's list over its mask and compares.
    """
    h, w = grid.height, grid.width
    for scale, layer in layers.items():
        levels = np.unique(np.concatenate([layer.values, frame["rating"].to_numpy(float)]))
        want = np.zeros((h * w, levels.size))
        np.add.at(want, (layer.pixel_index(), np.searchsorted(levels, layer.values)), 1)
        got = np.zeros((h, w, levels.size))
        sub = frame[frame["scale"] == scale]
        for p in grid.patches[scale]:
            vals = sub.loc[sub["k"] == p.k, "rating"].to_numpy(float)
            hist = np.bincount(np.searchsorted(levels, vals), minlength=levels.size)
            got[p.rows, p.cols] += p.mask[..., None] * hist
        if not np.array_equal(got.reshape(h * w, -1), want):
            return False
    return True


def matrix_meaning_map(layers_by_scale: dict[str, RatingLayer]) -> np.ndarray:
    """The toolkit's unsmoothed map straight from the matrix: mean of each layer, mean of layers."""
    return np.mean([layer.mean_map() for layer in layers_by_scale.values()], axis=0)


def semipartial_r(y, x, control) -> float:
    """Signed semipartial correlation r(y, residual of x regressed on control, with intercept), by
    least squares on the raw (uncentred) variables with a column of ones: its square must equal
    ``metrics.semipartial_r2``. 0.0 when x is a linear function of control."""
    y, x, control = (np.asarray(v, dtype=np.float64).ravel() for v in (y, x, control))
    design = np.column_stack([np.ones_like(control), control])
    coef, *_ = np.linalg.lstsq(design, x, rcond=None)
    resid = x - design @ coef
    if np.dot(resid, resid) <= 1e-20 * np.dot(x - x.mean(), x - x.mean()):
        return 0.0
    return float(np.corrcoef(y, resid)[0, 1])


def pysaliency_log_density(saliency_map, minimum_value: float) -> np.ndarray:
    """log of pysaliency.metrics.convert_saliency_map_to_density(saliency_map, minimum_value), step by
    step as pysaliency writes it: shift a map with negatives to a minimum of 0, add the minimum value,
    divide by the sum; then the log."""
    s = np.array(saliency_map, dtype=float)
    if s.min() < 0:
        s = s - s.min()
    s = s + minimum_value
    total = s.sum()
    s = s / total if total else np.full_like(s, 1.0 / s.size)
    with np.errstate(divide="ignore"):
        return np.log(s)


# --- The paper's own procedure (zhanshicu/meaning-map), transcribed from its code -------------------
# dataset.ipynb (patches, labels) and generate_meaning_map.py (answers -> map), kept as the paper
# wrote them (full-frame masks, PIL's greyscale conversion, float32 maps), only the file I/O removed.


def _paper_circular_mask(h, w, center=None, radius=None):
    if center is None:
        center = (int(w / 2), int(h / 2))
    if radius is None:
        radius = min(center[0], center[1], w - center[0], h - center[1])
    Y, X = np.ogrid[:h, :w]
    dist_from_center = np.sqrt((X - center[0]) ** 2 + (Y - center[1]) ** 2)
    return dist_from_center <= radius


def _paper_degree_to_pixel(degree, h, w):
    fov = 90
    return int((degree / fov) * min(h, w))


def paper_patches(image: np.ndarray, degrees=(3, 7), overlap=0.1, keep_images=True) -> list[dict]:
    """dataset.ipynb ``extract_circular_patches`` on an H x W x C uint8 image: per patch, in the
    paper's order, its metadata (filename, center (x, y) 0-based, radius, bbox (x_min, y_min,
    x_max, y_max)) and, with ``keep_images``, the cropped patch array it saved as a PNG."""
    h, w, _ = image.shape
    patch_count = 0
    out = []
    for degree in degrees:
        radius = _paper_degree_to_pixel(degree, h, w)
        step = int(radius * (1 - overlap))
        for y in range(0, h, step):
            for x in range(0, w, step):
                mask = _paper_circular_mask(h, w, center=(x, y), radius=radius)
                coords = np.argwhere(mask)
                y_min, x_min = coords.min(axis=0)
                y_max, x_max = coords.max(axis=0)
                entry = {"filename": f"patch_{patch_count}_deg_{degree}.png", "center": (x, y), "radius": radius,
                         "bbox": (int(x_min), int(y_min), int(x_max), int(y_max)), "degree": degree}
                if keep_images:
                    patch = np.zeros_like(image)
                    patch[mask] = image[mask]
                    entry["patch"] = patch[y_min:y_max + 1, x_min:x_max + 1]
                out.append(entry)
                patch_count += 1
    return out


def paper_mean_score_to_likert(mean_score):
    """dataset.ipynb ``mean_score_to_likert``."""
    if mean_score <= 42:
        return 'very low'
    elif mean_score <= 84:
        return 'low'
    elif mean_score <= 126:
        return 'somewhat low'
    elif mean_score <= 168:
        return 'somewhat high'
    elif mean_score <= 210:
        return 'high'
    else:
        return 'very high'


def paper_patch_scores(map_image: np.ndarray) -> list[tuple]:
    """dataset.ipynb's labels of a meaning-map image (H x W x 3 uint8): per patch (degree, mean_score,
    likert_label), the mean of the non-black pixels of the saved patch converted to 'L' by PIL."""
    from PIL import Image

    rows = []
    for data in paper_patches(map_image):
        patch_array = np.array(Image.fromarray(data["patch"]).convert('L'))
        non_black_pixels = patch_array[patch_array > 0]
        mean_score = np.mean(non_black_pixels) if non_black_pixels.size > 0 else 0
        rows.append((data["degree"], float(mean_score), paper_mean_score_to_likert(mean_score)))
    return rows


def paper_likert_to_numeric(likert_label):
    """generate_meaning_map.py ``likert_to_numeric`` (case-sensitive; anything else 0)."""
    likert_scale = {
        'very low': 1, 'Very low': 1,
        'low': 2,
        'somewhat low': 3, 'Somewhat low': 3,
        'somewhat high': 4, 'Somewhat high': 4,
        'high': 5,
        'very high': 6, 'Very high': 6
    }
    return likert_scale.get(likert_label, 0)


def paper_meaning_map(data: pd.DataFrame, sigma=5, gamma=3.0) -> np.ndarray:
    """generate_meaning_map.py ``plot_smoothed_meaning_map_from_csv`` on one scene's rows (columns
    bbox_x_min, bbox_y_min, bbox_x_max, bbox_y_max, center_x, center_y, radius,
    likert_label_predicted), returning the array it saved as a PNG."""
    from scipy.ndimage import gaussian_filter

    max_x = data[['bbox_x_min', 'bbox_x_max']].values.max()
    max_y = data[['bbox_y_min', 'bbox_y_max']].values.max()
    original_shape = (int(max_y) + 1, int(max_x) + 1)
    meaning_map = np.zeros(original_shape, dtype=np.float32)
    count_map = np.zeros(original_shape, dtype=np.float32)
    for _, row in data.iterrows():
        numeric_score = paper_likert_to_numeric(row['likert_label_predicted'])
        x_min, y_min = int(row['bbox_x_min']), int(row['bbox_y_min'])
        x_max, y_max = int(row['bbox_x_max']), int(row['bbox_y_max'])
        center = (int(row['center_x']), int(row['center_y']))
        radius = int(row['radius'])
        mask = _paper_circular_mask(original_shape[0], original_shape[1], center=center, radius=radius)
        x_max = min(x_max, original_shape[1] - 1)
        y_max = min(y_max, original_shape[0] - 1)
        mask_cropped = mask[y_min:y_max + 1, x_min:x_max + 1]
        meaning_map[y_min:y_max + 1, x_min:x_max + 1][mask_cropped] += numeric_score
        count_map[y_min:y_max + 1, x_min:x_max + 1][mask_cropped] += 1
    count_map[count_map == 0] = 1
    smoothed_meaning_map = meaning_map / count_map
    smoothed_meaning_map = gaussian_filter(smoothed_meaning_map, sigma=sigma)
    return np.power(smoothed_meaning_map, gamma)


# --- The paper's prompts, as LLaVA built them (haotian-liu/LLaVA; zhanshicu/meaning-map) -------------
# llava/conversation.py (conv_vicuna_v1, conv_llava_v1; SeparatorStyle.TWO get_prompt),
# llava/train/train.py (preprocess_multimodal), llava/mm_utils.py (tokenizer_image_token), the
# notebook's `instruction` and inference.py's `query`, transcribed; the slow tokenizer is stood in for
# by the `sentencepiece` library on Meta's tokenizer.model (BOS added, </s> a special token).

PAPER_SYSTEM_VICUNA_V1 = ("A chat between a curious user and an artificial intelligence assistant. "
                          "The assistant gives helpful, detailed, and polite answers to the user's questions.")
PAPER_SYSTEM_LLAVA_V1 = ("A chat between a curious human and an artificial intelligence assistant. "
                         "The assistant gives helpful, detailed, and polite answers to the human's questions.")
# dataset.ipynb, cell 6
PAPER_INSTRUCTION = """
Please assess the meaningfulness of the depicted patch using the following scale: 'very low,' 'low,' 'somewhat low,' 'somewhat high,' 'high,' 'very high.'
Provide your response by selecting one of these categories.
"""  # noqa: E501
# inference.py, args.query
PAPER_QUERY = """
    Please assess the meaningfulness of the depicted patch using the following scale: 'very low,' 'low,' 'somewhat low,' 'somewhat high,' 'high,' 'very high.' 
    Provide your response by selecting one of these categories. 
    """  # noqa: E501, W291 (the script's trailing spaces are part of the query)


def _sep_two_prompt(system, messages):
    """Conversation.get_prompt for SeparatorStyle.TWO (sep " ", sep2 "</s>")."""
    seps = [" ", "</s>"]
    ret = system + seps[0]
    for i, (role, message) in enumerate(messages):
        if message:
            ret += role + ": " + message + seps[i % 2]
        else:
            ret += role + ":"
    return ret


def paper_training_conversation(answer: str) -> str:
    """dataset.ipynb's row -> preprocess_multimodal -> preprocess_v1's conv_vicuna_v1 prompt."""
    value = "<image>\n" + PAPER_INSTRUCTION
    value = value.replace("<image>", "").strip()
    value = "<image>" + "\n" + value
    value = value.strip()
    return _sep_two_prompt(PAPER_SYSTEM_VICUNA_V1, [("USER", value), ("ASSISTANT", answer)])


def paper_rating_prompt() -> str:
    """inference.py: qs = DEFAULT_IMAGE_TOKEN + "\\n" + query; conv_llava_v1 with an open assistant turn."""
    qs = "<image>" + "\n" + PAPER_QUERY
    return _sep_two_prompt(PAPER_SYSTEM_LLAVA_V1, [("USER", qs), ("ASSISTANT", None)])


def sentencepiece_tokenizer(model_file):
    """The slow Llama tokenizer's ``tokenizer(text).input_ids`` (BOS first; ``</s>`` is id 2)."""
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor(model_file=str(model_file))

    def tokenize(text: str) -> list[int]:
        ids = [sp.bos_id()]
        for k, part in enumerate(text.split("</s>")):
            if k:
                ids.append(sp.eos_id())
            if part:
                ids.extend(sp.encode(part))
        return ids

    tokenize.sp = sp
    return tokenize


def paper_tokenizer_image_token(prompt: str, tokenize, image_token_index: int = -200) -> list[int]:
    """llava/mm_utils.py tokenizer_image_token with ``tokenize`` (text -> ids with BOS)."""
    prompt_chunks = [tokenize(chunk) for chunk in prompt.split('<image>')]

    def insert_separator(X, sep):
        return [ele for sublist in zip(X, [sep] * len(X)) for ele in sublist][:-1]

    input_ids = []
    offset = 0
    if len(prompt_chunks) > 0 and len(prompt_chunks[0]) > 0 and prompt_chunks[0][0] == 1:
        offset = 1
        input_ids.append(prompt_chunks[0][0])
    for x in insert_separator(prompt_chunks, [image_token_index] * (offset + 1)):
        input_ids.extend(x[offset:])
    return input_ids
