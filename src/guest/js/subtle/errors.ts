/** The DOMExceptions WebCrypto rejects with. */
export const dataError = (message: string) => new DOMException(message, 'DataError');
export const notSupported = (message: string) => new DOMException(message, 'NotSupportedError');
export const invalidAccess = (message: string) => new DOMException(message, 'InvalidAccessError');
export const operationError = (message: string) => new DOMException(message, 'OperationError');
export const syntaxError = (message: string) => new DOMException(message, 'SyntaxError');
