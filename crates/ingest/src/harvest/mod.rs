//! Fetching records online: arXiv OAI-PMH, the Hugging Face API, the arXiv API.
