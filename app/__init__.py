"""科学空间问答: answer questions from the blog kexue.fm with citations to post titles and dates."""

__version__ = "0.1.0"
