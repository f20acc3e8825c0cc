"""Message classification for gridbot: is a chat message a problem, whose, how urgent.

Pure text in, Classification out; jieba and the lexicon are loaded once by load().
"""

from nlp.classifier import DEPARTMENTS, Classification, Classifier, load
from nlp.lexdata import LexiconError

__all__ = ["DEPARTMENTS", "Classification", "Classifier", "LexiconError", "load"]
