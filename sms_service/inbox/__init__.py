"""The staff inbox: parents' own texts, waiting for a person to read and answer them."""
