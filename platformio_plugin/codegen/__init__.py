"""Generated C/C++: pure functions from model facts to file text."""
