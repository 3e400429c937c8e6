"""Experiments on tip wording: which wording a family gets, and what each wording led to."""
