"""The choices the fit form and ``GET /api/v1/options`` offer, each with one line to explain it."""

from __future__ import annotations

# The registry's families (segmint.algorithms), each with one line for the page.
ALGORITHMS = [
    {
        "id": "auto",
        "name": "auto (recommended)",
        "explanation": "Compares k-means, Gaussian mixture, Ward and Genie on your customers and "
        "keeps the one whose segments are best separated (and stable).",
    },
    {
        "id": "kmeans",
        "name": "k-means",
        "explanation": "Groups customers around k average profiles; fast, and each segment is "
        "described by its centre. Best when segments are roughly round and of similar spread.",
    },
    {
        "id": "gmm",
        "name": "Gaussian mixture",
        "explanation": "Soft groups of different sizes and shapes; the confidence is the "
        "probability that a customer belongs to the segment.",
    },
    {
        "id": "ward",
        "name": "Ward (hierarchical)",
        "explanation": "Merges similar customers step by step into compact segments; the tree "
        "shows which segments are close to each other.",
    },
    {
        "id": "genie",
        "name": "Genie",
        "explanation": "Follows gaps in the data, so segments need not be round; new customers "
        "join the segment of their nearest typical customer.",
    },
    {
        "id": "birch",
        "name": "BIRCH",
        "explanation": "Summarises customers in one pass into many small groups, then forms k "
        "segments from them; suits very large data.",
    },
    {
        "id": "hdbscan",
        "name": "HDBSCAN",
        "explanation": "Finds dense groups and the number of segments itself (k must stay auto); "
        "customers in no dense group are kept apart as 'Unassigned'.",
    },
    {
        "id": "dbscan",
        "name": "DBSCAN",
        "explanation": "Finds groups of customers packed closer than one distance (read from "
        "the data) and the number of segments itself (k must stay auto); customers in no "
        "dense group are kept apart as 'Unassigned'.",
    },
    {
        "id": "consensus",
        "name": "consensus",
        "explanation": "Combines many runs of several methods and keeps the segments they agree "
        "on; slower, and the most robust.",
    },
]
K_CHOICES = [
    {
        "id": "auto",
        "explanation": "segmint tries 1 to 10 segments, keeps the smallest k the gap statistic "
        "supports among the stable ones, and says so when there are no distinct segments.",
    },
    {"id": "N", "explanation": "Exactly N segments, e.g. 4 when you plan four campaigns."},
    {"id": "MIN-MAX", "explanation": "Let segmint choose within a range, e.g. 3-6."},
]
